"""The Teams app package: the zip, its manifest (checked against Microsoft's schema), its icons, the CLI."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import matplotlib.image
import numpy as np
import pytest

from handlers.teams.package import EXAMPLE_APP_ID, build_package, main

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / ".venv" / "share" / "nudgebot" / "schemas" / "teams-manifest-1.25.schema.json"
APP_ID = "0f6d7b1e-3c2a-4e8b-9a1d-5b7c9e2f4a61"
HOST = "nudgebot.example.com"
COMMANDS = ["visit", "promise", "help", "home", "settings"]
UPLOAD_LINE = (
    "upload it in Teams (Apps → Manage your apps → Upload an app), "
    "or have a Teams admin add it to your org's app catalog.\n"
)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A package built for the test bot, running at HOST."""
    return build_package(APP_ID, tmp_path / "nudgebot-teams.zip", bot_domain=HOST)


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(entries(path)["manifest.json"])
    return loaded


def png_size(data: bytes) -> tuple[int, int]:
    # A PNG is its 8-byte signature, then the IHDR chunk: length, type, width, height (big-endian).
    signature, _, kind, width, height = struct.unpack(">8sI4sII", data[:24])
    assert signature == b"\x89PNG\r\n\x1a\n"
    assert kind == b"IHDR"
    return width, height


def pixels(data: bytes) -> np.ndarray[Any, Any]:
    """The image as an array of RGBA floats in 0–1."""
    image = np.asarray(matplotlib.image.imread(io.BytesIO(data), format="png"))
    assert image.ndim == 3
    return image


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    if not SCHEMA.is_file():
        pytest.fail(
            f"Microsoft's Teams manifest schema is missing ({SCHEMA.relative_to(ROOT)}): run scripts/setup, "
            "which downloads it from the npm registry"
        )
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    # Its patterns are ECMAScript regexes (one uses \p{L}, unknown to Python's re), so the schema's own check
    # leaves formats out; no pattern our manifest meets uses such a class.
    validator_class.check_schema(schema, format_checker=None)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(manifest)]


def test_the_zip_holds_the_manifest_and_both_icons_at_its_root(package: Path) -> None:
    assert sorted(entries(package)) == ["color.png", "manifest.json", "outline.png"]


def test_every_placeholder_is_filled_with_the_bot_its_host_and_the_defaults(package: Path) -> None:
    text = entries(package)["manifest.json"].decode("utf-8")
    manifest = manifest_of(package)

    assert "{{" not in text
    assert "}}" not in text
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == [HOST]
    assert manifest["version"] == "1.0.0"
    assert manifest["developer"] == {
        "name": "Nudgebot",
        "websiteUrl": "https://nudgebot.example.com/",
        "privacyUrl": "https://nudgebot.example.com/privacy",
        "termsOfUseUrl": "https://nudgebot.example.com/terms",
    }
    assert manifest["name"] == {"short": "Nudgebot", "full": "Nudgebot — client habits for IT technicians"}
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_builder_fills_in_what_it_is_given(tmp_path: Path) -> None:
    path = build_package(
        APP_ID.upper(),
        tmp_path,
        bot_domain="https://Bot.Contoso.example/api/messages",
        version="1.2.3",
        website_url="https://contoso.example/it",
        privacy_url="https://contoso.example/it/privacy",
        terms_url="https://contoso.example/it/terms",
    )
    manifest = manifest_of(path)

    assert path == tmp_path / "nudgebot-teams.zip"
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID.upper()
    assert manifest["validDomains"] == ["bot.contoso.example"]
    assert manifest["version"] == "1.2.3"
    assert manifest["developer"]["websiteUrl"] == "https://contoso.example/it"
    assert manifest["developer"]["privacyUrl"] == "https://contoso.example/it/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://contoso.example/it/terms"


def test_without_a_domain_the_manifest_lists_none(tmp_path: Path) -> None:
    manifest = manifest_of(build_package(APP_ID, tmp_path / "p.zip"))

    assert "validDomains" not in manifest
    assert "{{" not in json.dumps(manifest)


def test_the_same_inputs_build_the_same_bytes(tmp_path: Path) -> None:
    first = build_package(APP_ID, tmp_path / "a.zip", bot_domain=HOST)
    second = build_package(APP_ID, tmp_path / "b.zip", bot_domain=HOST)

    assert first.read_bytes() == second.read_bytes()


def test_one_conversational_bot_in_personal_chat_teams_and_group_chats(package: Path) -> None:
    manifest = manifest_of(package)
    (bot,) = manifest["bots"]

    assert manifest["manifestVersion"] == "1.25"
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.25/MicrosoftTeams.schema.json"
    )
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    assert "webApplicationInfo" not in manifest
    assert "copilot" not in json.dumps(manifest)


def test_every_command_list_offers_the_five_commands_within_teams_limits(package: Path) -> None:
    lists = manifest_of(package)["bots"][0]["commandLists"]

    assert len(lists) <= 3
    assert sorted(scope for entry in lists for scope in entry["scopes"]) == ["groupChat", "personal", "team"]
    for entry in lists:
        assert [command["title"] for command in entry["commands"]] == COMMANDS
        # Teams' command menu limits (the schema itself allows longer text).
        assert all(len(command["title"]) <= 32 for command in entry["commands"])
        assert all(len(command["description"]) <= 128 for command in entry["commands"])
    described = {command["title"]: command["description"] for command in lists[0]["commands"]}
    assert "visit Acme Dental 1h30 replaced fuser; todo: order toner" in described["visit"]
    assert "promise Acme Dental send the quote by Friday" in described["promise"]


def test_the_manifest_is_valid_against_microsofts_schema_1_25(package: Path, tmp_path: Path) -> None:
    without_domain = manifest_of(build_package(APP_ID, tmp_path / "bare.zip"))

    assert schema_errors(manifest_of(package)) == []
    assert schema_errors(without_domain) == []


def test_the_icons_are_pngs_of_192_and_32_pixels(package: Path) -> None:
    files = entries(package)

    assert png_size(files["color.png"]) == (192, 192)
    assert png_size(files["outline.png"]) == (32, 32)
    assert files["color.png"] == (ROOT / "teams" / "color.png").read_bytes()
    assert files["outline.png"] == (ROOT / "teams" / "outline.png").read_bytes()


def test_the_colour_icon_is_in_colour(package: Path) -> None:
    image = pixels(entries(package)["color.png"])
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]

    assert image.shape[:2] == (192, 192)
    assert np.any((red != green) | (green != blue))


def test_the_outline_icon_is_white_on_transparent_only(package: Path) -> None:
    image = pixels(entries(package)["outline.png"])
    alpha = image[..., 3]
    white = np.all(image[..., :3] == 1.0, axis=-1)

    assert image.shape == (32, 32, 4)
    assert np.all(white | (alpha == 0.0))
    # It draws something, on a background that shows through.
    assert np.count_nonzero(alpha == 1.0) > 100
    assert np.count_nonzero(alpha == 0.0) > 100


@pytest.mark.parametrize("app_id", ["", "nudgebot", f"28:{APP_ID}", "00000000-0000-0000-0000-000000000000"])
def test_an_app_id_that_is_not_a_guid_is_refused_with_an_example(tmp_path: Path, app_id: str) -> None:
    with pytest.raises(ValueError, match="is not a Microsoft App ID") as refused:
        build_package(app_id, tmp_path / "p.zip")

    assert str(refused.value) == (
        f"{app_id!r} is not a Microsoft App ID: Teams needs the bot's Application (client) ID, "
        f"a GUID like {EXAMPLE_APP_ID}"
    )
    assert not (tmp_path / "p.zip").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bot_domain": "nudgebot example com"}, "is not a host name"),
        ({"bot_domain": "-bad-.example.com"}, "is not a host name"),
        ({"version": "1.0"}, "is not a package version"),
        ({"version": "v1.0.0"}, "is not a package version"),
        ({"privacy_url": "http://nudgebot.example.com/privacy"}, "is not an https URL for the privacy page"),
        ({"website_url": "nudgebot.example.com"}, "is not an https URL for the website page"),
    ],
)
def test_other_values_teams_would_refuse_are_refused(
    tmp_path: Path, arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        build_package(APP_ID, tmp_path / "p.zip", **arguments)

    assert "\n" not in str(refused.value)
    assert not (tmp_path / "p.zip").exists()


def test_the_command_line_builds_the_package_and_says_what_to_do_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dist" / "teams.zip"

    code = main(["--app-id", APP_ID, "--domain", HOST, "--out", str(out)])

    assert code == 0
    assert capsys.readouterr() == (f"Wrote {out}: {UPLOAD_LINE}", "")
    assert manifest_of(out)["validDomains"] == [HOST]


def test_the_command_line_takes_the_app_id_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No .env in the working directory: the setting comes from the environment alone.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)

    code = main([])

    assert code == 0
    assert capsys.readouterr() == (f"Wrote nudgebot-teams.zip: {UPLOAD_LINE}", "")
    assert manifest_of(tmp_path / "nudgebot-teams.zip")["id"] == APP_ID


def test_the_command_line_without_an_app_id_says_where_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)

    code = main([])

    assert code == 2
    assert capsys.readouterr() == (
        "",
        "nudgebot: TEAMS_APP_ID is not set: pass --app-id, or put the bot's Microsoft App ID "
        "(the Entra app registration's Application (client) ID) in the environment or .env\n",
    )
    assert not (tmp_path / "nudgebot-teams.zip").exists()


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["--app-id", "nudgebot"], "nudgebot: 'nudgebot' is not a Microsoft App ID: "),
        (["--app-id", APP_ID, "--domain", "https://"], "nudgebot: 'https://' is not a host name: "),
        (["--app-id", APP_ID, "--app-version", "latest"], "nudgebot: 'latest' is not a package version: "),
        (["--app-id", APP_ID, "--colour", "red"], "nudgebot: unrecognized arguments: --colour red"),
        (["--app-id"], "nudgebot: argument --app-id: expected one argument"),
    ],
)
def test_command_line_errors_are_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    start: str,
) -> None:
    monkeypatch.chdir(tmp_path)

    code = main(argv)

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith(start)
    assert err.count("\n") == 1
    assert err.endswith("\n")
    assert list(tmp_path.iterdir()) == []
