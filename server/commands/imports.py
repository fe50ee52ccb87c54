"""Where a file import got to, kept in the data directory so a killed import resumes.

One small JSON file per (tenant, file): the file is known by its full path, size and
modification time, so an edited file starts again from the top. It is replaced whole
after every committed batch (write, then rename: never half written) and removed when
the import ends.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Resume:
    state: Path

    @classmethod
    def of(cls, data_dir: Path, *, tenant_id: Any, path: Path) -> Resume:
        stat = path.stat()
        identity = f"{tenant_id}:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        name = hashlib.sha256(identity.encode()).hexdigest()[:32]
        folder = data_dir / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / f"{name}.json")

    def records(self) -> int:
        """How many records an earlier run got through (0: none, or it finished)."""
        try:
            return int(json.loads(self.state.read_text())["records"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def save(self, totals: Any) -> None:
        temporary = self.state.with_suffix(".tmp")
        temporary.write_text(json.dumps({"records": totals.records}))
        os.replace(temporary, self.state)

    def finish(self) -> None:
        self.state.unlink(missing_ok=True)
