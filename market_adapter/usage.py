"""Report SLURM usage to Waldur as component usages: billing-hours of COMPLETED jobs per marketplace resource."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from hpc_adapter.accounting import JobRecord
from market_adapter.waldur import WaldurClient


def billing_hours(
    records: Iterable[JobRecord], account_resources: Mapping[str, str], period_start: int, period_end: int
) -> dict[str, float]:
    """Billing-hours (billing x elapsed / 3600) of COMPLETED jobs that ended in ``[period_start, period_end)``, per resource.

    Args:
        records: accounting records.
        account_resources: lowercased SLURM account -> Waldur resource UUID.
        period_start: start of the billing period, Unix seconds (inclusive).
        period_end: end of the billing period, Unix seconds (exclusive).
    """
    totals: dict[str, float] = defaultdict(float)
    for rec in records:
        resource = account_resources.get(rec.account)
        if resource is None or rec.state != "COMPLETED" or rec.end_time is None:
            continue
        if period_start <= rec.end_time < period_end:
            totals[resource] += rec.billing * rec.elapsed_s / 3600.0
    return dict(totals)


def report_usage(
    waldur: WaldurClient,
    records: Iterable[JobRecord],
    account_resources: Mapping[str, str],
    period_start: int,
    period_end: int,
    component: str = "cpu_hour",
) -> dict[str, float]:
    """Set each resource's ``component`` usage for the period (Waldur's set_usage replaces, so re-running is safe).

    Raises:
        AdapterError: Waldur refused a report (earlier resources stay reported).
    """
    accounts = {k.lower(): v for k, v in account_resources.items()}
    totals = billing_hours(records, accounts, period_start, period_end)
    for resource, hours in sorted(totals.items()):
        waldur.report_usage(resource, {component: hours}, description="SLURM billing-hours (VEID)")
    return totals
