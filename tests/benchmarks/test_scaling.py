"""The scaling report: table and plot from a made-up measurement (the measuring itself runs the worker)."""

from __future__ import annotations

from benchmarks.scaling import markdown, plot


def fake_results() -> dict:
    def row(scale: float) -> dict:
        return {"scale": scale, "users": int(100 * scale), "ratings": int(1000 * scale),
                "train_ratings": int(800 * scale), "generate_seconds": 0.1,
                "preprocess": {"seconds": 1.0 * scale, "peak_mb": 300.0 + scale, "rss_start_mb": 290.0},
                "epoch": {"baseline": {"train_seconds": 2.0 * scale, "ratings_per_second": 400,
                                       "peak_train_mb": 400.0 + 10 * scale, "rss_start_mb": 380.0,
                                       "train_increase_mb": 20.0}}}

    return {"name": "scaling", "command": "python benchmarks/scaling.py", "git": {"commit": "abc", "dirty": False},
            "machine": {"platform": "Linux", "cpu_count": 2, "torch": "2", "OMP_NUM_THREADS": "1", "nice": 10,
                        "load_average_start": [1.0, 1.0, 1.0]},
            "settings": {"scales": [1, 2], "models": ["baseline"], "n_users_at_1x": 100, "n_anime": 50,
                         "min_ratings": 5, "train_config": "defaults"},
            "rows": [row(1), row(2)], "wall_seconds": 60.0}


def test_table_shows_growth_against_the_first_row(tmp_path):
    md = markdown(fake_results())
    assert "| scale | ratings | train ratings | preprocess s | preprocess peak MiB | baseline epoch s |" in md
    assert "| 2x | 2,000 | 1,600 | 2.0 (2.00x) | 302 (1.00x) | 4.0 (2.00x) | 400 | 420 (1.02x) |" in md
    plot(fake_results(), tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
