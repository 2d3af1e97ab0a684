"""Builds Nudgebot's Microsoft Teams app package: the manifest filled in for one bot and its icons, zipped."""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from bot.settings import WHERE_TO_GET, SettingsError, load_settings

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "teams"
ICONS = ("color.png", "outline.png")
DEFAULT_OUT = Path("nudgebot-teams.zip")
WEBSITE_URL = "https://nudgebot.example.com/"
PRIVACY_URL = "https://nudgebot.example.com/privacy"
TERMS_URL = "https://nudgebot.example.com/terms"
EXAMPLE_APP_ID = "8a6c5f2e-0b1d-4c3e-9f7a-2d4b6c8e0a1f"
NIL_GUID = "00000000-0000-0000-0000-000000000000"
UPLOAD_HINT = (
    "upload it in Teams (Apps → Manage your apps → Upload an app), "
    "or have a Teams admin add it to your org's app catalog"
)

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Teams compares package versions as MAJOR.MINOR.PATCH and takes only a higher one as an update.
_VERSION = re.compile(r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$")
# A zip entry's date is fixed, so the same inputs always give the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def build_package(
    app_id: str,
    out: Path,
    *,
    bot_domain: str | None = None,
    version: str = "1.0.0",
    website_url: str = WEBSITE_URL,
    privacy_url: str = PRIVACY_URL,
    terms_url: str = TERMS_URL,
) -> Path:
    """Write the Teams app package for the bot `app_id` to `out` (a zip, or a folder to put one in).

    `bot_domain` is the host the bot runs on (a URL is cut down to its host); without it the manifest
    lists no valid domain. Raises ValueError, with an example, for anything Teams would refuse.
    """
    manifest = render_manifest(
        app_id,
        bot_domain=bot_domain,
        version=version,
        website_url=website_url,
        privacy_url=privacy_url,
        terms_url=terms_url,
    )
    target = out / DEFAULT_OUT.name if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    files = {"manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()}
    files.update({icon: (TEMPLATE_DIR / icon).read_bytes() for icon in ICONS})
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return target


def render_manifest(
    app_id: str,
    *,
    bot_domain: str | None = None,
    version: str = "1.0.0",
    website_url: str = WEBSITE_URL,
    privacy_url: str = PRIVACY_URL,
    terms_url: str = TERMS_URL,
) -> dict[str, Any]:
    """The manifest template with every placeholder filled in, after checking each value."""
    values = {
        "TEAMS_APP_ID": _app_id(app_id),
        "BOT_DOMAIN": _domain(bot_domain) if bot_domain else None,
        "VERSION": _version(version),
        "WEBSITE_URL": _https_url("website", website_url),
        "PRIVACY_URL": _https_url("privacy", privacy_url),
        "TERMS_URL": _https_url("terms of use", terms_url),
    }
    template = json.loads((TEMPLATE_DIR / "manifest.json").read_text(encoding="utf-8"))
    # Filled on the parsed structure, so no value can break the JSON whatever characters it holds.
    manifest: dict[str, Any] = _fill(template, values)
    if not manifest.get("validDomains"):
        manifest.pop("validDomains", None)
    if "{{" in json.dumps(manifest):
        raise ValueError("teams/manifest.json has a placeholder left that the builder does not fill")
    return manifest


def _fill(node: Any, values: Mapping[str, str | None]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        # A list entry that is only a placeholder without a value is left out (the domain, when unknown).
        return [_fill(item, values) for item in node if not _unset(item, values)]
    if isinstance(node, str):
        return _PLACEHOLDER.sub(lambda match: _value(match[1], values), node)
    return node


def _unset(item: Any, values: Mapping[str, str | None]) -> bool:
    match = _PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
    return match is not None and match[1] in values and values[match[1]] is None


def _value(name: str, values: Mapping[str, str | None]) -> str:
    value = values.get(name)
    if value is None:
        raise ValueError(f"teams/manifest.json uses {{{{{name}}}}} where the builder has no value for it")
    return value


def _app_id(app_id: str) -> str:
    app_id = app_id.strip()
    if not _GUID.match(app_id) or app_id == NIL_GUID:
        raise ValueError(
            f"{app_id!r} is not a Microsoft App ID: Teams needs the bot's Application (client) ID, "
            f"a GUID like {EXAMPLE_APP_ID}"
        )
    return app_id


def _domain(domain: str) -> str:
    given = domain.strip()
    host = (urlsplit(given).hostname or "") if "://" in given else given.lower().rstrip("/")
    if not _HOST.match(host) or len(host) > 253:
        raise ValueError(
            f"{domain!r} is not a host name: give the host the bot runs on alone, like nudgebot.example.com"
        )
    return host


def _version(version: str) -> str:
    if not _VERSION.match(version):
        raise ValueError(
            f"{version!r} is not a package version: use MAJOR.MINOR.PATCH like 1.0.0, "
            "and raise it for every upload of a changed package"
        )
    return version


def _https_url(what: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > 2048:
        raise ValueError(f"{url!r} is not an https URL for the {what} page; use one like {WEBSITE_URL}")
    return url


class _UsageError(Exception):
    """A command-line mistake, reported in one line instead of argparse's usage block."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see --help)")


def _app_id_from_settings() -> str:
    app_id = load_settings().teams_app_id
    if not app_id:
        where = WHERE_TO_GET["teams_app_id"]
        raise SettingsError(
            f"TEAMS_APP_ID is not set: pass --app-id, or put {where} in the environment or .env"
        )
    return app_id


def main(argv: list[str] | None = None) -> int:
    """`python -m handlers.teams.package`: build the package, 0; or one line on stderr, 2."""
    parser = _Parser(
        prog="python -m handlers.teams.package",
        description="Build Nudgebot's Microsoft Teams app package, a zip to upload in Teams.",
    )
    parser.add_argument("--app-id", help="the bot's Microsoft App ID (default: the TEAMS_APP_ID setting)")
    parser.add_argument("--domain", help="the host the bot runs on, like nudgebot.example.com")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where to write the zip (default: %(default)s)"
    )
    parser.add_argument(
        "--app-version",
        default="1.0.0",
        help="the package's version; raise it to upload a changed package (default: %(default)s)",
    )
    parser.add_argument("--website-url", default=WEBSITE_URL, help="default: %(default)s")
    parser.add_argument("--privacy-url", default=PRIVACY_URL, help="default: %(default)s")
    parser.add_argument("--terms-url", default=TERMS_URL, help="default: %(default)s")
    try:
        args = parser.parse_args(argv)
        path = build_package(
            args.app_id if args.app_id is not None else _app_id_from_settings(),
            args.out,
            bot_domain=args.domain,
            version=args.app_version,
            website_url=args.website_url,
            privacy_url=args.privacy_url,
            terms_url=args.terms_url,
        )
    except (_UsageError, SettingsError, ValueError, OSError) as problem:
        sys.stderr.write(f"nudgebot: {problem}\n")
        return 2
    sys.stdout.write(f"Wrote {path}: {UPLOAD_HINT}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
