from __future__ import annotations

import nas_meta


def test_every_public_name_exists():
    for name in nas_meta.__all__:
        assert hasattr(nas_meta, name), name
