"""Sync All: pull every pull-enabled object of a connection, in dependency order.

Each page is applied in one transaction together with its links, log entries, run counts
and the cursor checkpoint, so a process killed at any point resumes where the last page
committed and never applies anything twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, CrmRecord, ObjectInfo, Page, ReadRequest
from crmsync.engine import pull_entries
from crmsync.engine.apply import Scope, apply_page
from crmsync.engine.collector import fewer_collections
from crmsync.engine.counts import Counts
from crmsync.engine.plan import PagePlan, apply_plan, plan_page
from crmsync.engine.prefetch import one_after_another, prefetched
from crmsync.engine.progress import Observer, Silent
from crmsync.engine.removals import apply_removals
from crmsync.engine.routing import extra_fields, route, sources_for
from crmsync.engine.sections import in_section, pulled_steps
from crmsync.engine.writer import PageWriter
from crmsync.errors import CrmsyncError, RunBusyError, SchemaError
from crmsync.model.profile import Condition, ObjectMapping, Profile
from crmsync.store import capture, cursors, leases, links, logs, retries, runs, tenancy
from crmsync.store.cursors import Cursor
from crmsync.store.data_sources import DataSource
from crmsync.store.db import reading
from crmsync.store.types import utcnow

NOTHING_ENABLED = "nothing is enabled to pull: every object's pull toggle is off"


@dataclass
class PullOptions:
    """How a pull runs."""

    kind: str = "sync_all"
    only: frozenset[str] | None = None
    modstamp_field: str = "SystemModstamp"
    lookback: timedelta = timedelta(minutes=5)
    filters: dict[str, tuple[Condition, ...]] = field(default_factory=dict)
    # Go on with the other objects when one fails (scheduled polls: one org sync's
    # problem must not stop the others); the failures are in RunResult.object_errors.
    isolate: bool = False
    # Read these records only (CRM object, case-folded -> ids), as change events name them;
    # such reads see deletions and do not move cursors.
    ids: dict[str, tuple[str, ...]] | None = None
    # Read all history, whatever the cursors say (a Full Fetch); pages still checkpoint.
    full: bool = False


@dataclass
class RunResult:
    """The outcome of a run, for the CLI, the API and tests."""

    run_id: int
    status: str
    message: str
    counts: dict[str, Counts]
    api_calls: int
    object_errors: dict[str, CrmsyncError] = field(default_factory=dict)

    @property
    def problems(self) -> int:
        """Records that failed or were skipped (each has an error log entry)."""
        return sum(c.problems for c in self.counts.values())


@dataclass
class _Run:
    engine: Engine
    scope: Scope
    connector: Connector
    options: PullOptions
    observer: Observer
    run_id: int
    owner: str
    started: datetime
    calls_before: int
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: dict[str, CrmsyncError] = field(default_factory=dict)
    # Types pulled only for their `pull` fields, onto linked records (sections that only send).
    linked_only: set[str] = field(default_factory=set)
    # Pages handed to the writer and not written yet, in order: their type and plan.
    unwritten: deque[tuple[str, PagePlan | None]] = field(default_factory=deque)

    @property
    def api_calls(self) -> int:
        return self.connector.api_calls - self.calls_before


# A pull allocates per record; see crmsync.engine.collector.
@fewer_collections()
def sync_all(
    engine: Engine,
    scope: Scope,
    connector: Connector,
    options: PullOptions | None = None,
    observer: Observer | None = None,
    *,
    batched: bool = False,
) -> RunResult:
    """Pull every pull-enabled object (or ``options.only``) of one connection, as one run.

    Sync All and the scheduled incremental poll are the same pull; ``batched`` fetches
    every object's first page in one call, which makes an idle poll cost one API call.
    """
    options = options or PullOptions()
    observer = observer or Silent()
    owner = leases.owner_name()
    org, cid = scope.organization_id, scope.connection_id
    with engine.begin() as conn:
        leases.acquire(conn, cid, owner)
        interrupted = runs.interrupt_stale(conn, org, cid)
        run_id = runs.start(conn, org, cid, options.kind)
        toggles = tenancy.get_toggles(conn, org, cid)
    if interrupted:
        observer.note("resuming an interrupted run from its last checkpoint")
    # Fields flow as the toggles say now; a Full Fetch compares every record with its row.
    scope = replace(scope, toggles=toggles, full=options.full, run_id=run_id)
    run = _Run(engine, scope, connector, options, observer, run_id, owner, utcnow(), connector.api_calls)
    # One run reads each list once where the CRM serves several objects from it (Bloomerang).
    with connector.shared_reads(), leases.kept(engine, cid, owner):
        try:
            steps, run.linked_only = pulled_steps(scope.profile, toggles, options.only)
            if not steps:
                return _finish(run, runs.SUCCEEDED, NOTHING_ENABLED)
            mappings: list[ObjectMapping] = []
            requests: list[ReadRequest] = []
            for mapping in (m for step in steps for m in step):
                if options.ids is not None and not options.ids.get(mapping.object.casefold()):
                    continue
                with _isolated(run, mapping):
                    requests.append(_request(run, mapping))
                    mappings.append(mapping)
            if batched:
                # An incremental poll: every object's first page in one call.
                readers = connector.read_batch(requests)
            else:
                # Each object's first page is fetched while the previous object's last one is
                # applied (and where the CRM's lists serve several objects, all of them ahead).
                connector.prefetch(requests)
                readers = one_after_another([partial(connector.read, request) for request in requests])
            # One writer for the run: an object's first page is planned while the last page of
            # the one before is written, with the parents that page's plan makes.
            with PageWriter[None]() as writer:
                for mapping, request, pages in zip(mappings, requests, readers, strict=True):
                    with _isolated(run, mapping):
                        _pull_object(run, writer, mapping, request, pages)
                        if options.isolate:
                            # A failure must be this object's, and stop none of the others.
                            writer.wait()
            pulled = {m.type for step in steps for m in step}
            observer.note("applying deletions and merges")
            for platform_type, counts in apply_removals(engine, scope, pulled, run_id=run_id).items():
                run.counts.setdefault(platform_type, Counts()).add(counts)
            if run.errors:
                first = next(iter(run.errors.values()))
                return _finish(run, runs.FAILED, f"{len(run.errors)} objects failed; first: {first.message}")
            with reading(engine) as conn:
                notes = retries.outstanding(conn, org, cid, sorted(pulled))
            return _finish(run, *_outcome(run.counts, notes))
        except CrmsyncError as exc:
            _finish(run, runs.FAILED, exc.message)
            raise
        finally:
            with engine.begin() as conn:
                leases.release(conn, cid, owner)


def _outcome(counts: dict[str, Counts], notes: dict[str, int]) -> tuple[str, str]:
    """The status and message of a run that went through: "in step" only when it is true.

    ``notes``: the records of the run's types still not in step afterwards, by why (see
    crmsync.store.retries.outstanding), including those this run did not read again.
    """
    failed = sum(c.failed for c in counts.values())
    skipped = sum(c.skipped for c in counts.values())
    behind = [
        f"{n} {what}"
        for key, what in (
            ("waiting", "wait for a parent"),
            ("failing", "failed and are tried again later"),
            ("locked", "are locked after failing 3 times (`crmsync locks`)"),
            ("left_out", "are left out by filters"),
        )
        if (n := notes.get(key, 0))
    ]
    why = "; `crmsync logs --status error` and `--status skipped` say why"
    if failed or skipped:
        parts = [f"{failed} records failed"] if failed else []
        parts += [f"{skipped} were skipped (a parent is missing)"] if skipped else []
        return runs.PARTIAL, f"{'; '.join(parts)}{why}"
    if behind:
        return runs.SUCCEEDED, f"every other record is in step; {', '.join(behind)}{why}"
    return runs.SUCCEEDED, "all records are in step"


def _finish(run: _Run, status: str, message: str) -> RunResult:
    with run.engine.begin() as conn:
        runs.finish(
            conn,
            run.scope.organization_id,
            run.run_id,
            status=status,
            counts={k: v.as_dict() for k, v in run.counts.items()},
            api_calls=run.api_calls,
            message=message,
        )
    return RunResult(run.run_id, status, message, run.counts, run.api_calls, dict(run.errors))


@contextmanager
def _isolated(run: _Run, mapping: ObjectMapping) -> Iterator[None]:
    """With ``options.isolate``, a failure of one object is recorded and the others go on."""
    try:
        yield
    except CrmsyncError as exc:
        if not run.options.isolate or isinstance(exc, RunBusyError):
            raise
        run.errors[mapping.type] = exc
        run.observer.note(f"{mapping.label_text}: {exc.message}")


def _request(run: _Run, mapping: ObjectMapping) -> ReadRequest:
    """What to read for ``mapping``: from its cursor, with its filters; checks the live schema."""
    info = run.connector.describe(mapping.object)
    _check_live_schema(run.scope.profile, mapping, info)
    stamp = run.options.modstamp_field
    fields = _read_fields(mapping)
    if info.field("LastModifiedDate") is not None:
        # When the record last changed in the CRM decides latest_wins conflicts.
        fields = (*fields, "LastModifiedDate")
    with reading(run.engine) as conn:
        # Data sources over this object read their fields through the same query; a changed
        # list is picked up here, on the next poll or event.
        fields = tuple(dict.fromkeys((*fields, *extra_fields(conn, run.scope, mapping.object))))
    if run.options.ids is not None:
        return ReadRequest(
            object=mapping.object,
            fields=fields,
            conditions=mapping.filter + run.options.filters.get(mapping.type, ()),
            modstamp_field=stamp,
            include_deleted=True,
            ids=run.options.ids[mapping.object.casefold()],
        )
    with reading(run.engine) as conn:
        cursor = cursors.get(conn, run.scope.organization_id, run.scope.connection_id, mapping.type, stamp)
    if run.options.full:
        cursor = None
    return ReadRequest(
        object=mapping.object,
        fields=fields,
        conditions=mapping.filter + run.options.filters.get(mapping.type, ()),
        modstamp_field=stamp,
        after=(cursor.value, cursor.last_id) if cursor else None,
        lookback=run.options.lookback if cursor and not cursor.in_progress else timedelta(0),
        include_deleted=cursor is not None,
    )


def _pull_object(
    run: _Run,
    writer: PageWriter[None],
    mapping: ObjectMapping,
    request: ReadRequest,
    pages: Iterator[Page],
) -> None:
    org, cid = run.scope.organization_id, run.scope.connection_id
    counts = run.counts.setdefault(mapping.type, Counts())
    run.observer.object_started(mapping.type, mapping.label_text)
    if request.ids is not None:
        _apply_pages(run, writer, mapping, counts, pages, checkpoint=False)
    else:
        # Records that failed or wait for a parent, to fetch again after this pass (usually none).
        with reading(run.engine) as conn:
            waiting = retries.any_waiting(conn, org, cid, mapping.type)
        _apply_pages(run, writer, mapping, counts, pages, checkpoint=True)
        writer.submit(
            partial(_finish_pass, run, mapping, request), then=_nothing, tag=mapping.type, light=True
        )
        if waiting:
            # Which of them the pass cleared is known once it is written.
            writer.wait()
            _retry_failed(run, writer, mapping, counts, request)
    writer.submit(
        _nothing, then=lambda _: run.observer.object_done(mapping.type, counts), tag=mapping.type, light=True
    )


def _finish_pass(run: _Run, mapping: ObjectMapping, request: ReadRequest) -> None:
    with run.engine.begin() as conn:
        cursors.finish_pass(
            conn, run.scope.organization_id, run.scope.connection_id, mapping.type, request.modstamp_field
        )


def _nothing(*_: object) -> None:
    """A job or outcome with nothing to do: it keeps its place in the writer's order."""


def _apply_pages(
    run: _Run,
    writer: PageWriter[None],
    mapping: ObjectMapping,
    counts: Counts,
    pages: Iterator[Page],
    *,
    checkpoint: bool,
) -> None:
    """Apply pages one transaction each, in order, in ``writer``; each page is planned while the
    one before is written (see crmsync.engine.plan)."""
    with reading(run.engine) as conn:
        # The contact-centre data sources fed by this object (usually none).
        sources = sources_for(conn, run.scope, mapping.object)
        # A first pull of this type has no links to look up for its pages (see plan).
        linked = links.any_linked(conn, run.scope.organization_id, run.scope.connection_id, mapping.type)
        # Records that failed or were left out before (usually none): read again unchanged on a
        # pass, they wait for their retry (see crmsync.store.retries) rather than fail again. A
        # Full Fetch tries everything it reads.
        noted = (
            checkpoint
            and not run.options.full
            and retries.any_waiting(conn, run.scope.organization_id, run.scope.connection_id, mapping.type)
        )
    # The parents' types: what the pages' lookups read is written first, or planned.
    parents = {target.type for lookup in mapping.lookups for target in lookup.targets}
    # A section reads its parents' links itself (see in_section): they must be written.
    written_first = mapping.type in run.linked_only or any(run.options.filters.get(t) for t in parents)
    # The highest platform id planned for rows not committed yet.
    promised = 0
    for page in prefetched(pages):
        unwritten = None if written_first else _unwritten_links(run, parents)
        if unwritten is None:
            writer.wait(tags=parents)
        fresh, held = _not_noted(run, mapping, page.records) if noted else (page.records, 0)
        # Sections that only send, and records whose parents a filter keeps out (usually neither).
        records, left = in_section(
            run.engine,
            run.scope,
            run.connector,
            mapping,
            fresh,
            run.options.filters,
            linked_only=mapping.type in run.linked_only,
        )
        with reading(run.engine) as conn:
            plan = plan_page(
                conn,
                run.scope,
                mapping,
                records,
                run_id=run.run_id,
                above=promised,
                unwritten=unwritten,
                linked=linked,
            )
        if plan is not None and plan.ids:
            promised = max(promised, plan.ids[-1])
        run.unwritten.append((mapping.type, plan))
        writer.submit(
            partial(
                _write_page,
                run,
                mapping,
                counts,
                page,
                records,
                plan,
                sources,
                (left, held),
                checkpoint=checkpoint,
            ),
            then=partial(_page_written, run, mapping, counts, page.total),
            tag=mapping.type,
        )


def _write_page(
    run: _Run,
    mapping: ObjectMapping,
    counts: Counts,
    page: Page,
    records: list[CrmRecord],
    plan: PagePlan | None,
    sources: list[DataSource],
    set_aside: tuple[list[tuple[CrmRecord, str, str]], int],
    *,
    checkpoint: bool,
) -> None:
    """One page's transaction: its records, log entries, counts and checkpoint (in the writer)."""
    org, cid = run.scope.organization_id, run.scope.connection_id
    with run.engine.begin() as conn, capture.origin(conn, "sync"):
        if plan is not None:
            result = apply_plan(conn, run.scope, plan)
        else:
            result = apply_page(conn, run.scope, mapping, records)
        left, held = set_aside
        if left:
            notes = [pull_entries.left_out(mapping, record, parent, why) for record, parent, why in left]
            retries.note_failures(conn, org, cid, mapping.type, notes, run_id=run.run_id)
            result.counts.left_out += len(left)
        result.counts.fetched += len(left) + held
        result.counts.unchanged += held
        if sources:
            result.logs.extend(route(conn, run.scope, sources, page.records))
        counts.add(result.counts)
        logs.write(conn, org, result.logs, connection_id=cid, run_id=run.run_id)
        if checkpoint and page.records:
            last = page.records[-1]
            cursors.put(
                conn,
                org,
                cid,
                mapping.type,
                Cursor(run.options.modstamp_field, last.modstamp or "", last.id, in_progress=True),
            )
        # The main thread adds the next object's counts meanwhile: copy (in C, under the GIL)
        # before iterating.
        progress = {k: v.as_dict() for k, v in dict(run.counts).items()}
        runs.save_progress(conn, org, run.run_id, progress, run.api_calls)
        leases.renew(conn, cid, run.owner)


def _not_noted(run: _Run, mapping: ObjectMapping, page: list[CrmRecord]) -> tuple[list[CrmRecord], int]:
    """The page without the records noted in this version (failed or left out before), and how
    many those were."""
    org, cid = run.scope.organization_id, run.scope.connection_id
    with reading(run.engine) as conn:
        noted = retries.failed_versions(conn, org, cid, mapping.type, [r.id for r in page if not r.deleted])
    kept = [r for r in page if r.deleted or r.id not in noted or noted[r.id] != r.modstamp]
    return kept, len(page) - len(kept)


def _unwritten_links(run: _Run, types: set[str]) -> dict[str, dict[str, int]] | None:
    """The links that pages of ``types`` still in the writer will make, by type; None if one of
    those pages has no plan (what it writes is known only once it is written)."""
    found: dict[str, dict[str, int]] = {}
    for platform_type, plan in run.unwritten:
        if platform_type not in types:
            continue
        if plan is None:
            return None
        found.setdefault(platform_type, {}).update(plan.new_links())
    return found


def _page_written(run: _Run, mapping: ObjectMapping, counts: Counts, total: int | None, _: None) -> None:
    run.unwritten.popleft()
    run.observer.page_done(mapping.type, counts.fetched, total)


def _retry_failed(
    run: _Run, writer: PageWriter[None], mapping: ObjectMapping, counts: Counts, request: ReadRequest
) -> None:
    """Fetch again the records that failed in earlier runs and are due: their parent arrived, or
    enough pulls went by (1, 2, 4 ...); locked ones and those a filter keeps out are not."""
    org, cid = run.scope.organization_id, run.scope.connection_id
    parent_types = [t.type for lookup in mapping.lookups for t in lookup.targets]
    with run.engine.begin() as conn:
        waiting = retries.due(conn, org, cid, mapping.type, parent_types, before=run.started)
    if not waiting:
        return
    again = ReadRequest(
        object=request.object,
        fields=request.fields,
        conditions=request.conditions,
        modstamp_field=request.modstamp_field,
        include_deleted=True,
        ids=tuple(waiting),
    )
    seen: set[str] = set()

    def remember(pages: Iterator[Page]) -> Iterator[Page]:
        for page in pages:
            seen.update(r.id for r in page.records)
            yield page

    # Retried records are not new versions: they must not move the cursor.
    _apply_pages(run, writer, mapping, counts, remember(run.connector.read(again)), checkpoint=False)
    writer.wait()
    vanished = [crm_id for crm_id in waiting if crm_id not in seen]
    if vanished:
        with run.engine.begin() as conn:
            retries.clear_failures(conn, org, cid, mapping.type, vanished)
            logs.write(
                conn,
                org,
                [
                    logs.LogEntry(
                        data_type=mapping.type,
                        action="pull",
                        direction="pull",
                        status="skipped",
                        message=(
                            f"{mapping.object} {crm_id} failed earlier and no longer matches this object's "
                            "filter (or was purged); it is not retried any more"
                        ),
                        crm_id=crm_id,
                    )
                    for crm_id in vanished
                ],
                connection_id=cid,
                run_id=run.run_id,
            )


def _read_fields(mapping: ObjectMapping) -> tuple[str, ...]:
    names = [f.crm for f in mapping.pulled_fields()] + [lookup.crm for lookup in mapping.lookups]
    return tuple(dict.fromkeys(names))


def _check_live_schema(profile: Profile, mapping: ObjectMapping, info: ObjectInfo) -> None:
    """The org must have every field the mapping reads; say which one is missing."""
    needed = list(_read_fields(mapping)) + [
        c.field.split(".")[0] for c in mapping.filter if "." not in c.field
    ]
    for name in needed:
        if info.field(name) is None:
            raise SchemaError(
                f"profile {profile.name}, object {mapping.type}: field {name} does not exist on "
                f"{mapping.object} in this org; install the package that defines it "
                "or remove it from the profile"
            )
