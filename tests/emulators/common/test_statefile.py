"""The state file both emulators build on: JSON values kept, and a failed write leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.emulators.common.statefile import StateFile

SCHEMA = "CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, data TEXT NOT NULL);"


class _Records(StateFile):
    def add(self, record_id: int, data: str, *, fail: bool = False) -> None:
        with self._transaction():
            self._db.execute("INSERT INTO records (id, data) VALUES (?, ?)", (record_id, data))
            self._put_meta("sequences", {"next": record_id + 1})
            if fail:
                raise RuntimeError("the write failed half-way")

    def all(self) -> list[tuple[int, str]]:
        return [tuple(row) for row in self._select("SELECT id, data FROM records ORDER BY id")]


def test_values_and_records_outlive_the_process_and_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = _Records(path, SCHEMA)
    first.add(1, "a")
    first.put_meta("rules", [{"name": "é"}])
    with pytest.raises(RuntimeError, match="half-way"):
        first.add(2, "b", fail=True)
    first.close()
    again = _Records(path, SCHEMA)
    assert again.all() == [(1, "a")]
    assert again.get_meta("sequences") == {"next": 2}
    assert again.get_meta("rules") == [{"name": "é"}]
    assert again.get_meta("absent") is None
    again.clear()
    assert (again.all(), again.get_meta("sequences"), again.get_meta("rules")) == ([], None, [{"name": "é"}])
    again.close()
