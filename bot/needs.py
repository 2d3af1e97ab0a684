"""Needs spotted before the client asks: the same problem recurring in a client's visit notes.

Everything here is local and explainable: a hand-written vocabulary of the devices and services IT
technicians look after (with their synonyms, brands and inflections), a list of words that show
trouble, and counting. A visit counts for a topic when one sentence of its notes names the topic and
shows trouble, so "Monthly patching of the server, all fine" never counts, and "Printer jammed.
Checked the backups." counts for the printer only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from types import MappingProxyType
from typing import Final, TypeAlias


@dataclass(frozen=True)
class VisitNote:
    """One visit's words: what was done and what was left."""

    visit_id: int
    client_id: int
    at: datetime  # aware
    text: str  # work done and what remains, joined by "\n"


@dataclass(frozen=True)
class Need:
    """A recurring problem at one client, and the visits it rests on."""

    client_id: int
    topic: str  # a stable key, kept with dismissals: "printer", "vpn", "sign-in"
    label: str  # how a sentence names it: "printer trouble"
    suggestion: str  # the proactive conversation, as a question: "suggest replacing the printer?"
    visit_ids: tuple[int, ...]  # the visits showing the problem, newest first
    words: tuple[str, ...]  # the notes' words that named it, lower-cased, newest visit first
    of_visits: int  # the client's visits in the same span (the window, or since it was last raised)

    def headline(self, client_name: str) -> str:
        """The need in one line, e.g. "Acme Dental: printer trouble in 3 of the last 5 visits — …?"."""
        return (
            f"{client_name}: {self.label} in {len(self.visit_ids)} of the last {self.of_visits} visits"
            f" — {self.suggestion}"
        )


WINDOW = timedelta(days=90)
AT_LEAST = 3


@dataclass(frozen=True)
class _Topic:
    key: str
    label: str
    suggestion: str
    # Comma-separated phrases. A phrase names the topic; "+" after it adds -ing/-ed forms to the plurals
    # every phrase gets, "=" matches it exactly as written.
    words: str
    # Phrases that name the topic and are a problem in themselves ("paper jam", "blue screen").
    troubles: str = ""
    # Phrases of routine work: they name the topic but soften "rebooted", "again" (see _SOFT_WORDS).
    routine: bool = False


_TOPICS: Final = (
    _Topic(
        "printer",
        "printer trouble",
        "suggest replacing the printer?",
        "printer, print+, print queue, print spooler, spooler, print server, print driver, printer driver, "
        "toner, toner cartridge, ink, ink cartridge, cartridge, fuser, drum unit, paper tray, paper feed, "
        "laserjet, officejet, deskjet, pagewide, ricoh, kyocera, brother printer, xerox, lexmark, "
        "konica, konica minolta, epson, canon printer, mfp, mfd, copier, photocopier, scanner, plotter, "
        "scan to email, scan to folder",
        "paper jam, jam+, misfeed, misprint, smudge+, smudgy, streak+, streaky, out of paper, out of toner",
    ),
    _Topic(
        "vpn",
        "VPN trouble",
        "suggest reviewing the remote-access set-up?",
        "vpn, anyconnect, cisco anyconnect, globalprotect, global protect, forticlient, forti client, "
        "fortivpn, wireguard, openvpn, remote access, tunnel, split tunnel, ipsec, site-to-site, "
        "always on vpn, zscaler",
    ),
    _Topic(
        "backup",
        "failed backups",
        "suggest reviewing the backup set-up?",
        "backup, back-up, back up=, backed up=, backing up=, backs up=, veeam, datto, acronis, carbonite, "
        "backblaze, macrium, storagecraft, shadowprotect, restore+, snapshot, backup job, time machine, "
        "offsite copy, replication",
        "missed backup, backup failed=, backups failed=",
    ),
    _Topic(
        "email",
        "e-mail trouble",
        "suggest reviewing the e-mail set-up?",
        "email, e-mail, mail=, mailbox, shared mailbox, inbox, outlook, exchange, exchange online, smtp, "
        "imap, pop3=, gmail, thunderbird, distribution list, autodiscover, dkim=, spf=, dmarc=, mail flow",
        "spam=, junk mail=, mailbox full=, inbox full=, ndr",
    ),
    _Topic(
        "wifi",
        "Wi-Fi trouble",
        "suggest a Wi-Fi survey?",
        "wifi=, wi-fi=, wi fi=, wireless=, wireless network, access point, ssid, unifi=, guest network, "
        "mesh network",
        "dead spot, dead zone, weak signal, poor signal, poor coverage, no signal=",
    ),
    _Topic(
        "network",
        "network trouble",
        "suggest a network review?",
        "internet=, network, networking=, switch, router, firewall, isp, broadband=, fibre=, fiber=, dns=, "
        "dhcp=, ethernet=, lan=, wan=, modem, sonicwall, fortigate, meraki, ubiquiti, patch panel, "
        "network cable, connectivity=",
        "no internet=, internet outage, packet loss=, ip conflict, no connectivity=",
    ),
    _Topic(
        "sign-in",
        "sign-in trouble",
        "suggest a password manager and self-service resets?",
        "password, passcode, passkey, login, log in=, log-in, logon, log on=, sign in=, sign-in=, signin=, "
        "sso=, single sign-on=, mfa=, 2fa=, two-factor=, two factor=, multi-factor=, authenticator, okta=, "
        "duo=, credentials=",
        "locked out=, lockout, lock out=, account locked=, forgotten password, forgot password",
    ),
    _Topic(
        "storage",
        "storage trouble",
        "suggest adding storage?",
        "storage=, disk, disk space=, drive space=, hard drive, hard disk, hdd, ssd, nas=, synology=, "
        "qnap=, raid=",
        "disk full=, disks full=, drive full=, storage full=, nas full=, out of space=, low disk space=, "
        "low on space=, bad sector",
    ),
    _Topic(
        "files",
        "file-sharing trouble",
        "suggest reviewing the file-sharing set-up?",
        "onedrive=, one drive=, sharepoint=, dropbox=, google drive=, file share, mapped drive, "
        "shared drive, shared folder, network drive, file server, sync+",
    ),
    _Topic(
        "computer",
        "computer trouble",
        "suggest replacing the older computers?",
        "computer, pc, laptop, desktop, workstation, macbook, imac, thinkpad, optiplex, elitebook, probook, "
        "surface pro, surface laptop, boot+, laptop battery",
        "blue screen, bsod, black screen, kernel panic, spinning wheel, beach ball, slow computer, "
        "slow laptop, slow pc, fan noise=",
    ),
    _Topic(
        "phones",
        "phone trouble",
        "suggest reviewing the phone system?",
        "phone, voip=, phone system, handset, desk phone, teams phone, softphone, 3cx=, ringcentral=, "
        "yealink=, polycom=, sip trunk, dial tone, call quality=",
        "no dial tone=, dropped call, one-way audio=",
    ),
    _Topic(
        "meetings",
        "meeting audio and video trouble",
        "suggest new headsets or a meeting-room check?",
        "zoom=, teams=, ms teams=, microsoft teams=, webex=, google meet=, headset, webcam, microphone, mic, "
        "speakerphone, conference room, meeting room, video call, audio=",
        "no sound=, no audio=, can't hear=, can’t hear=, cannot hear=",
    ),
    _Topic(
        "server",
        "server trouble",
        "suggest replacing the server?",
        "server, domain controller, active directory=, hyper-v=, vmware=, esxi=, virtual machine, vm, "
        "sql server, terminal server, rds=, poweredge=, proliant=, idrac=",
    ),
    _Topic(
        "power",
        "power trouble",
        "suggest a new UPS?",
        "ups=, ups battery, ups batteries=, battery backup, power supply, power supplies=, psu, "
        "surge protector, power strip, apc=",
        "power cut, power outage, power failure, brownout, lost power=, no power=, power surge",
    ),
    _Topic(
        "security",
        "security alerts",
        "suggest a security review?",
        "antivirus=, anti-virus=, defender=, windows defender=, microsoft defender=, sentinelone=, "
        "sentinel one=, crowdstrike=, sophos=, bitdefender=, webroot=, malwarebytes=, eset=, norton=, "
        "mcafee=, edr=, endpoint protection=, virus scan",
        "malware=, virus, ransomware=, phishing=, trojan, infected=, infection, compromised=, breach, "
        "hacked=, spoofed=, spoofing=, quarantined=",
    ),
    _Topic(
        "updates",
        "failing updates",
        "suggest reviewing patch management?",
        "update, windows update, feature update, firmware update, patch, patched=, patching=, wsus=, "
        "patch tuesday=",
        routine=True,
    ),
    _Topic(
        "office",
        "Microsoft 365 app trouble",
        "suggest a Microsoft 365 check-up?",
        "office 365=, microsoft 365=, m365=, o365=, excel=, powerpoint=, microsoft word=, ms word=, "
        "word document, office apps=, office activation=",
    ),
)
# The topics by key, as dismissals store them.
TOPICS: Final = frozenset(topic.key for topic in _TOPICS)

# Words that show trouble wherever they stand in a sentence with a topic.
_HARD_WORDS = (
    "fail+, failure, error+, broken=, broke=, down=, downtime=, outage, offline=, "
    "stopped working=, won't=, wont=, can't=, cant=, cannot=, couldn't=, wouldn't=, doesn't=, isn't=, "
    "aren't=, wasn't=, unable=, slow, slower=, slowly=, slowness=, sluggish=, laggy=, lag+, latency=, "
    "crash+, froze=, freeze+, frozen=, hang+, hung=, drop+, dropout, disconnect+, disconnection, "
    "intermittent=, intermittently=, sporadic=, sporadically=, stuck=, noisy=, noise=, grinding=, "
    "squeaking=, corrupt+, corruption=, expired=, expiring=, lost=, losing=, missing=, missed=, fix+, "
    "repair+, issue, problem, problematic=, trouble, troubleshoot+, complaint, complain+, faulty=, fault, "
    "glitch, glitchy=, bug, buggy=, unresponsive=, timeout, timed out=, times out=, "
    "timing out=, bounce+, rejected=, denied=, unreachable=, no connection=, dead=, died=, dying=, "
    "flicker+, overheat+, beeping=, choppy=, echo+, echoes=, garbled=, degraded=, workaround, constantly=, "
    "repeatedly=, recurring=, randomly=, out of warranty=, over quota=, ran out=, run out=, runs out=, "
    "running out=, cuts out=, cutting out=, cut out=, disappear+, hasn't=, haven't=, didn't="
)
# Words that show trouble unless the sentence reads as routine work ("rebooted after patching").
_SOFT_WORDS = (
    "again=, restart+, reboot+, reset+, power cycle+, power-cycle+, replace+, replacement, reinstall+, "
    "re-install+, reconnect+, rebuild+, rebuilt=, reseat+, cleared=, warning, alert"
)
# Words that make a sentence routine work.
_ROUTINE_WORDS = (
    "maintenance=, scheduled=, monthly=, weekly=, quarterly=, annual=, routine=, planned=, preventive=, "
    "health check, checkup, check-up, configure+, set up=, install+, enable+, upgrade+, onboarding=, "
    "onboarded=, offboarding=, updated=, updating=, discuss+, quote+, proposal, budget, plan+, recommend+, "
    "review+"
)
_ALL_CLEAR = (
    r"(?:issues?|errors?|problems?|complaints?|alerts?|warnings?|trouble|faults?|failures?|concerns?)"
)
# Phrases that read as trouble word by word but are not: matched whole, so neither half counts. Each
# starts with a plain letter, as the vocabulary's words do (see _pattern).
_NEUTRAL = (
    *(
        rf"{lead}\s+(?:\w+\s+){{0,2}}?{_ALL_CLEAR}"
        for lead in ("no", "zero", "0", "nil", "without", r"never\s+any")
    ),
    r"not\s+(?:an?\s+)?(?:issue|problem|concern)",
    r"nothing\s+(?:wrong|to\s+report|found)",
    r"error[\s-]free",
    r"no\s+longer\s+\w+",
    r"shut(?:ting)?\s+down",
    # "Went down to the server room" is a walk, not an outage.
    *(
        rf"{verb}\s+down"
        for verb in ("went", "go", "going", "walked", "came", "come", "sat", "wrote", "written", "noted")
    ),
    r"shutdown",
    r"power(?:ed|ing)?\s+(?:down|off)",
    r"switch(?:ed|es|ing)?\s+(?:on|off)",
    r"on\s+the\s+phone",
    r"over\s+the\s+phone",
    r"by\s+phone",
    r"fixed\s+(?:ip|price|fee|term)",
    r"out\s+of\s+(?:the\s+)?(?:office|hours)",
    # Consumables run out in normal use: a toner change is upkeep, not a sign of a failing printer.
    *(
        rf"{verb}\w*\s+(?:the\s+|a\s+)?(?:\w+\s+)?(?:toner|ink|cartridge|paper)s?"
        for verb in ("replac", "chang", "swapp", "refill")
    ),
)
# "Not printing", "keeps asking": the trouble is the word before, and the word after may name a topic.
_AHEAD = (r"not(?=\s+(?!using\b|including\b|going\b|needing\b)\w+ing\b)", r"keeps?(?=\s+\w+ing\b)")
_AHEAD_WORDS = frozenset({"not", "keep", "keeps"})
# What may stand just before a word. The match starts on it, so the regex engine skips the letters in
# between at C speed instead of trying every position; a hyphen is left out so "follow-ups" holds no UPS.
_GAP = r"""[\s.!?;,:()\[\]/"“\u2018']"""


class _Cue(IntEnum):
    NAMES = 0  # names a topic
    PROBLEM = 1  # names a topic and is a problem in itself ("paper jam", "blue screen")
    HARD = 2
    SOFT = 3
    ROUTINE = 4


_VOWELS = "aeiou"


def _plurals(word: str) -> set[str]:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return {word + "es"}
    if len(word) > 1 and word.endswith("y") and word[-2] not in _VOWELS:
        return {word[:-1] + "ies"}
    return {word + "s"}


def _verb_forms(word: str) -> set[str]:
    if word.endswith("e") and not word.endswith("ee"):
        return {word[:-1] + "ing", word + "d"}
    if len(word) > 1 and word.endswith("y") and word[-2] not in _VOWELS:
        return {word + "ing", word[:-1] + "ied"}
    forms = {word + "ing", word + "ed"}
    # Short consonant-vowel-consonant words double the last letter: jam, jammed; drop, dropping.
    if len(word) <= 4 and word[-1] not in _VOWELS + "wxy" and word[-2] in _VOWELS and word[-3] not in _VOWELS:
        forms |= {word + word[-1] + "ing", word + word[-1] + "ed"}
    return forms


def _forms(phrases: str) -> set[str]:
    """Every written form of comma-separated phrases: their last word with its plural, and verb forms."""
    found: set[str] = set()
    for phrase in (part.strip() for part in phrases.split(",")):
        if not phrase:
            continue
        head, _, last = phrase.rstrip("+=").rpartition(" ")
        lasts = {last}
        if not phrase.endswith("="):
            lasts |= _plurals(last)
            if phrase.endswith("+"):
                lasts |= _verb_forms(last)
        for form in lasts:
            written = f"{head} {form}" if head else form
            found.add(written)
            if "'" in written:
                found.add(written.replace("'", "’"))
    return found


def _meanings() -> dict[str, tuple[_Topic | None, _Cue]]:
    """Each written form → the topic it names (if any) and what it says about the sentence."""
    lists: list[tuple[_Topic | None, _Cue, str]] = []
    for each in _TOPICS:
        lists += [(each, _Cue.NAMES, each.words), (each, _Cue.PROBLEM, each.troubles)]
    lists += [
        (None, _Cue.HARD, _HARD_WORDS),
        (None, _Cue.SOFT, _SOFT_WORDS),
        (None, _Cue.ROUTINE, _ROUTINE_WORDS),
    ]
    meanings: dict[str, tuple[_Topic | None, _Cue]] = {}
    for topic, cue, phrases in lists:
        for form in _forms(phrases):
            if meanings.setdefault(form, (topic, cue)) != (topic, cue):
                raise ValueError(f"{form!r} is in two lists of the vocabulary")
    return meanings


_Node: TypeAlias = dict[str, "_Node"]


def _emit(node: _Node) -> str:
    """A trie as a regex that branches letter by letter, so a word costs one step per letter."""
    branches = [
        (r"\s+" if char == " " else re.escape(char)) + _emit(child)
        for char, child in sorted(node.items())
        if char
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # A phrase that goes on ("print" → "printer") is tried longest first; the greedy "?" backs off.
    return f"(?:{body})?" if "" in node else body


def _pattern(forms: Iterable[str], extras: Iterable[str]) -> re.Pattern[str]:
    """One regex for a note: sentence ends, and the vocabulary's words with the extra phrases merged in
    by first letter, so each word of a note is tried against the few entries that start as it does.
    """
    root: _Node = {}
    for form in forms:
        node = root
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}
    tails: dict[str, list[str]] = {}
    for extra in extras:
        if not extra[0].isalnum() or extra[1:2] in ("?", "*", "+", "{"):
            raise ValueError(f"{extra!r} must start with a plain letter")
        tails.setdefault(extra[0], []).append(extra[1:])
    # The extras come first: "no internet issues" is all clear, though "no internet" names a problem.
    branches = [
        re.escape(char)
        + "(?:"
        + "|".join([*tails.get(char, ()), *([_emit(root[char])] if char in root else [])])
        + ")"
        for char in sorted(root.keys() | tails.keys())
    ]
    return re.compile(_GAP + r"(?:(?P<stop>(?<=[.!?;])(?!\S))|(?P<said>" + "|".join(branches) + r")(?!\w))")


_MEANINGS: Final = _meanings()
_NOTE: Final = _pattern(_MEANINGS, (*_NEUTRAL, *_AHEAD))


def _read(text: str) -> dict[str, list[str]]:
    """The topics a note shows trouble with, each with the words that named it."""
    found: dict[str, list[str]] = {}
    named: list[tuple[str, str]] = []
    # A problem phrase ("dead spot", "paper jam") is trouble for its own topic only, not for a place or
    # device beside it ("dead spot by the meeting room").
    troubled: set[str] = set()
    hard = soft = routine = False

    def close_sentence() -> None:
        everything = hard or (soft and not routine)
        for key, word in named:
            if everything or key in troubled:
                words = found.setdefault(key, [])
                if word not in words:
                    words.append(word)

    # The gap before the first word, and a line break ends a sentence as a full stop does.
    for match in _NOTE.finditer(" " + text.lower().replace("\n", ".\n")):
        said = match["said"]
        if said is None:  # the end of a sentence
            if named:
                close_sentence()
                named = []
                troubled = set()
            hard = soft = routine = False
            continue
        word = said
        meaning = _MEANINGS.get(word)
        if meaning is None and not said.isalnum():
            word = " ".join(said.split())  # "print  queue" is the phrase "print queue"
            meaning = _MEANINGS.get(word)
        if meaning is None:
            # Not a word of the vocabulary, so one of the extras: "not" before an -ing, or all clear.
            hard = hard or word in _AHEAD_WORDS
            continue
        topic, cue = meaning
        if topic is not None:
            named.append((topic.key, word))
            if cue is _Cue.PROBLEM:
                troubled.add(topic.key)
            routine = routine or topic.routine
        elif cue is _Cue.HARD:
            hard = True
        elif cue is _Cue.SOFT:
            soft = True
        else:
            routine = True
    if named:
        close_sentence()
    return found


_NO_DISMISSALS: Final[Mapping[tuple[int, str], datetime | None]] = MappingProxyType({})
_TOPIC_BY_KEY: Final = {topic.key: topic for topic in _TOPICS}


def spot(
    notes: Iterable[VisitNote],
    *,
    now: datetime,
    dismissed: Mapping[tuple[int, str], datetime | None] = _NO_DISMISSALS,
    window: timedelta = WINDOW,
    at_least: int = AT_LEAST,
) -> list[Need]:
    """The recurring problems in visit notes: a topic shown as trouble in `at_least` visits of a client
    within `window` before `now`, leaving out topics dismissed for good and visits before one was raised.
    """
    if at_least < 1:
        raise ValueError(f"at_least must be 1 or more, not {at_least}")
    start = now - window
    visits: dict[int, dict[int, datetime]] = {}
    mentions: dict[tuple[int, str], list[tuple[datetime, int, list[str]]]] = {}
    for note in notes:
        if not start <= note.at <= now:
            continue
        seen = visits.setdefault(note.client_id, {})
        if note.visit_id in seen:
            continue  # the same visit twice counts once
        seen[note.visit_id] = note.at
        for key, said in _read(note.text).items():
            mentions.setdefault((note.client_id, key), []).append((note.at, note.visit_id, said))

    needs: list[tuple[tuple[int, float, int, str], Need]] = []
    for (client_id, key), found in mentions.items():
        if (client_id, key) in dismissed and dismissed[(client_id, key)] is None:
            continue
        raised = dismissed.get((client_id, key))
        if raised is not None:
            # Raised with the client: the need comes back only if the problem recurs after that.
            found = [mention for mention in found if mention[0] > raised]
        if len(found) < at_least:
            continue
        found.sort(key=lambda mention: (mention[0], mention[1]), reverse=True)
        words: dict[str, None] = {}
        for _, _, said in found:
            words.update(dict.fromkeys(said))
        topic = _TOPIC_BY_KEY[key]
        at_client = visits[client_id].values()
        of_visits = len(at_client) if raised is None else sum(at > raised for at in at_client)
        need = Need(
            client_id=client_id,
            topic=key,
            label=topic.label,
            suggestion=topic.suggestion,
            visit_ids=tuple(visit_id for _, visit_id, _ in found),
            words=tuple(words),
            of_visits=of_visits,
        )
        needs.append(((-len(found), -found[0][0].timestamp(), client_id, key), need))
    needs.sort(key=lambda pair: pair[0])
    return [need for _, need in needs]
