from __future__ import annotations

from pathlib import Path

from smoke.lint.code import find_env_prefixes, sites_for

SOURCES = {
    "apps/scan_worker/setup/config.py": (
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n"
        "class Settings(BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_file=".env", env_prefix="SCAN_WORKER_")\n'
    ),
    "apps/users-worker/settings.py": (
        "class Settings(BaseSettings):\n"
        '    model_config = {"extra": "ignore", "env_prefix": "USERS_"}\n'
    ),
    "apps/character_worker/conf.py": 'class S(BaseSettings, env_prefix="CHAR_"):\n    x: int\n',
    "legacy/v1.py": 'class S(BaseSettings):\n    class Config:\n        env_prefix = "OLD_"\n',
    "apps/scan_worker/broken.py": "def (:\n",
    "apps/scan_worker/unrelated.py": 'prefix = "NOT_A_SETTING_"\n',
}


def test_env_prefixes_are_found_by_parsing_every_spelling(tmp_path: Path) -> None:
    for name, text in SOURCES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    sites = find_env_prefixes(tmp_path)
    found = {(Path(s.file).relative_to(tmp_path).as_posix(), s.prefix, s.line) for s in sites}
    assert found == {
        ("apps/scan_worker/setup/config.py", "SCAN_WORKER_", 3),
        ("apps/users-worker/settings.py", "USERS_", 2),
        ("apps/character_worker/conf.py", "CHAR_", 1),
        ("legacy/v1.py", "OLD_", 3),
    }
    # A worker owns the prefixes under a directory named like it or its Deployment.
    assert [s.prefix for s in sites_for(sites, "scan-worker")] == ["SCAN_WORKER_"]
    assert [s.prefix for s in sites_for(sites, "users_worker")] == ["USERS_"]
    assert sites_for(sites, "scan") == ()
