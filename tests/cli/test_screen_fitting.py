"""The pieces that make the run's last block fit a small screen: widths, clipping, soft wrap."""

from __future__ import annotations

from diagnose.model import DiagnosisEntry, Severity, StepRef
from diagnose.progress import clip, width_of
from diagnose.render.run_text import Fix, first_fix, rows


def test_width_counts_columns_not_characters() -> None:
    assert width_of("abc") == 3
    assert width_of("漢字") == 4  # wide characters take two columns
    assert width_of("e\u0301") == 1  # a combining accent takes none
    assert width_of("\x1b[31mred\x1b[0m") == 3  # colour escapes take none


def test_clip_cuts_to_the_width_and_keeps_colour_escapes_whole() -> None:
    line = "\x1b[31m" + "x" * 100 + "\x1b[0m"
    cut = clip(line, 20)
    assert width_of(cut) == 20 and cut.endswith("…\x1b[0m") and cut.startswith("\x1b[31m")
    assert clip("short", 20) == "short"


def test_rows_are_counted_after_the_soft_wrap() -> None:
    assert rows("a" * 80, 80) == 1
    assert rows("a" * 81, 80) == 2
    assert rows("a\n\nb", 80) == 3
    assert rows("a" * 200 + "\nb", 80) == 4


def entry(remediation: str) -> DiagnosisEntry:
    return DiagnosisEntry("c", "t", Severity.FAIL, StepRef("x"), [remediation], [])


def test_the_first_fix_keeps_its_command_whole_and_its_words_readable() -> None:
    fix = first_fix(
        entry(
            'Re-enable it (Entra ID > Properties > "Enabled", or '
            "`az ad sp update --id 1f0c --set accountEnabled=true`)."
        )
    )
    assert fix is not None
    assert fix.commands == ("az ad sp update --id 1f0c --set accountEnabled=true",)
    assert fix.words == 'Re-enable it (Entra ID > Properties > "Enabled").'
    bare = first_fix(entry("az keyvault update --id /subscriptions/s/x --bypass AzureServices"))
    assert bare is not None and bare.commands[0].startswith("az keyvault update")
    prose = first_fix(entry("Wait and retest."))
    assert prose is not None and prose.commands == () and prose.words == "Wait and retest."
    introduced = first_fix(
        DiagnosisEntry(
            "c",
            "t",
            Severity.FAIL,
            StepRef("x"),
            [
                "Create it again:",
                "az identity create --name i",
                "az cosmosdb update --ids a",
                "Portal: …",
            ],
            [],
        )
    )
    assert introduced == Fix(
        "Create it again:", ("az identity create --name i", "az cosmosdb update --ids a")
    )
