"""The early-exit choice of ``eval.span_choices`` on made-up dev rows: the read the service
makes (first passage alone, then the rest) and the rule that picks the margin."""

from __future__ import annotations

from typing import Any

from eval import span_choices as choices


def _row(answer: str, head: tuple[str, float], rest: tuple[str, float]) -> dict[str, Any]:
    spans = [{"passage": 0, "margin": head[1], "text": head[0]},
             {"passage": 1, "margin": rest[1], "text": rest[0]}]
    return {"set": "s", "id": answer, "answers": [answer] if answer else [],
            "spans": {"0.0": spans}, "head": spans[:1], "rest": spans[1:]}


def test_the_first_passage_answers_alone_only_at_or_above_the_exit_margin() -> None:
    row = _row("Lima", ("Quito", 3.0), ("Lima", 7.0))
    assert choices.exit_outcome(row, 2.0)["strict"] is False  # sure enough: rest not read
    assert choices.exit_outcome(row, 4.0)["strict"] is True   # not sure: the better span wins
    assert choices.exit_outcome(row, 4.0)["margin"] == 7.0


def test_the_lowest_exit_that_loses_nothing_against_the_full_read_is_chosen() -> None:
    rows = [_row(f"a{i}", (f"a{i}", 9.0), ("other", 1.0)) for i in range(30)]
    # the first passage is wrong but fairly sure (margin 3) where the second has the answer
    rows += [_row(f"b{i}", ("wrong", 3.0), (f"b{i}", 5.0)) for i in range(10)]
    rows += [_row("", ("nothing", -9.0), ("nothing", -8.0)) for _ in range(5)]
    chosen, options = choices.choose_early_exit(rows, passages=2, bonus=0.0)
    assert chosen == 4.0  # exits at 0..3 would answer the b-questions from the first passage
    assert options["3.0"]["strict_accuracy"] < options["4.0"]["strict_accuracy"] == 1.0
    assert options["4.0"]["first_passage_only"] == round(30 / 45, 4)


def test_no_exit_is_chosen_when_every_candidate_loses() -> None:
    rows = [_row(f"b{i}", ("wrong", 99.0), (f"b{i}", 100.0)) for i in range(10)]
    chosen, _ = choices.choose_early_exit(rows, passages=2, bonus=0.0)
    assert chosen is None


def _rows_where_the_fourth_passage_helps(helped: int) -> list[dict[str, Any]]:
    """40 answerable questions the first passage answers, ``helped`` of them only right when
    the fourth passage is read too, 3 answered so unsurely that the 5 % of false abstention
    goes to them in every option, and 10 unanswerable ones every option declines."""
    def row(answer: str, spans: list[tuple[str, float]]) -> dict[str, Any]:
        listed = [{"passage": p, "margin": m, "text": t} for p, (t, m) in enumerate(spans)]
        return {"set": "s", "id": answer or str(id(spans)), "answers": [answer] if answer else [],
                "spans": {str(b): listed for b in choices.LENGTH_BONUSES}}

    rows = [row(f"a{i}", [(f"a{i}", 9.0)]) for i in range(40 - helped)]
    rows += [row(f"b{i}", [("wrong", 5.0), ("x", 1.0), ("x", 1.0), (f"b{i}", 8.0)])
             for i in range(helped)]
    rows += [row(f"z{i}", [(f"z{i}", -5.0)]) for i in range(3)]
    rows += [row("", [("nothing", -9.0)]) for _ in range(10)]
    return rows


def test_a_wider_read_must_win_by_more_than_one_question() -> None:
    one = choices.choose(_rows_where_the_fourth_passage_helps(1))
    assert one["dev_options"]["5 passages, bonus 0.0"]["f1"] > \
        one["dev_options"]["3 passages, bonus 0.0"]["f1"]  # better, but by one question
    assert (one["passages"], one["length_bonus"]) == (3, 0.0)
    many = choices.choose(_rows_where_the_fourth_passage_helps(6))
    assert (many["passages"], many["length_bonus"]) == (5, 0.0)  # 6 questions: a real gain


def test_an_early_exit_may_lose_one_question_but_not_two() -> None:
    rows = [_row(f"a{i}", (f"a{i}", 9.0), ("other", 1.0)) for i in range(40)]
    # the 5 % of false abstention goes to these in every option
    rows += [_row(f"z{i}", (f"z{i}", -5.0), ("other", -6.0)) for i in range(3)]
    rows += [_row(f"b{i}", ("wrong", 3.0), (f"b{i}", 5.0)) for i in range(1)]
    assert choices.choose_early_exit(rows, passages=2, bonus=0.0)[0] == 0.0  # loses one
    rows += [_row(f"c{i}", ("wrong", 3.0), (f"c{i}", 5.0)) for i in range(1)]
    assert choices.choose_early_exit(rows, passages=2, bonus=0.0)[0] == 4.0  # would lose two
