"""Campaign use cases (推广激活专项): load a plan, list plans, progress as of a day.

Plans come from campaign files (``campaigns/*.yaml``, docs/campaigns.md) or an uploaded file;
loading the same content twice changes nothing. Progress is computed from the registry and the
e-voucher's activation events on every read (nothing is cached that could disagree).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from yibao.campaigns import store
from yibao.campaigns.model import CampaignFileError, Plan, parse_plan
from yibao.campaigns.progress import Progress, compute
from yibao.clock import CHINA
from yibao.db.tables import audit


def now() -> datetime:
    return datetime.now(CHINA)


class CampaignNotFound(LookupError):
    """No campaign with that id (or not in the caller's regions)."""


def campaign_dir() -> Path:
    """Shipped campaign files: ``YIBAO_CAMPAIGN_DIR`` or the repository's ``campaigns/``."""
    env = os.environ.get("YIBAO_CAMPAIGN_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[3] / "campaigns"
    return here if here.is_dir() else Path.cwd() / "campaigns"


def _json_default(v: object) -> str:
    if isinstance(v, date):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def read_file(text: str) -> dict[str, Any]:
    """YAML text → the raw mapping (dates stay ISO strings after the JSON round trip)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CampaignFileError("(file)", f"YAML 格式错误：{exc}") from None
    if not isinstance(raw, dict):
        raise CampaignFileError("(file)", "应为 YAML 映射")
    parse_plan(raw)  # refuse before anything is stored
    out: dict[str, Any] = json.loads(json.dumps(raw, default=_json_default, ensure_ascii=False))
    return out


def load_text(conn: sa.Connection, text: str, *, source_file: str, actor: str,
              now: datetime) -> tuple[Plan, bool]:  # fmt: skip
    """Check and store a campaign file; (plan, changed). Bad content raises and stores nothing."""
    raw = read_file(text)
    plan = parse_plan(raw)
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False)
    changed = store.upsert(conn, {
        "campaign_id": plan.id, "name": plan.name, "admdvs": plan.admdvs,
        "start_date": plan.start, "end_date": plan.end, "plan": raw, "source_file": source_file,
        "fingerprint": hashlib.sha256(canonical.encode()).hexdigest(),
        "loaded_by": actor, "loaded_at": now,
    })  # fmt: skip
    if changed:
        audit(conn, actor, "campaign.load", plan.id, source_file=source_file)
    return plan, changed


def load_file(engine: sa.Engine, path: Path, *, actor: str = "system") -> tuple[Plan, bool]:
    with engine.begin() as conn:
        return load_text(conn, path.read_text(encoding="utf-8"), source_file=path.name,
                         actor=actor, now=datetime.now(CHINA))  # fmt: skip


def load_shipped(engine: sa.Engine, *, actor: str = "system") -> list[str]:
    """Load every shipped campaign file (demo data); returns the ids loaded or changed."""
    done = []
    for path in sorted(campaign_dir().glob("*.yaml")):
        plan, changed = load_file(engine, path, actor=actor)
        if changed:
            done.append(plan.id)
    return done


def plan_of(conn: sa.Connection, campaign_id: str, prefixes: list[str] | None = None) -> Plan:
    row = store.get(conn, campaign_id)
    if row is None or (
        prefixes is not None and not any(row["admdvs"].startswith(p) for p in prefixes)
    ):
        raise CampaignNotFound(campaign_id)
    return parse_plan(row["plan"])


def campaigns(conn: sa.Connection, prefixes: list[str] | None = None) -> list[Plan]:
    """Stored plans in the caller's regions (``prefixes`` None: every region)."""
    return [parse_plan(r["plan"]) for r in store.listing(conn, prefixes)]


def progress(conn: sa.Connection, campaign_id: str, as_of: date,
             prefixes: list[str] | None = None) -> Progress:  # fmt: skip
    """The campaign's progress at the end of ``as_of`` (China time)."""
    plan = plan_of(conn, campaign_id, prefixes)
    until = datetime.combine(as_of + timedelta(days=1), time(0), CHINA)
    return compute(plan, store.cohorts(conn, plan.admdvs, until), as_of)


def channel_names(conn: sa.Connection) -> dict[str, str]:
    return store.channel_names(conn)
