import type { Queryable } from '../db/knex.ts'
import { read, write } from '../db/query.ts'

/**
 * The kinds of incident: a handoff (Camunda 7's two), and each other thing this system sends out —
 * a status event to the national portal, a notification to the applicant, a callback to a peer system.
 */
export const INCIDENT_TYPES = ['failedExternalTask', 'failedJob', 'failedPortalSync', 'failedNotification', 'failedPeerCallback'] as const
export type IncidentType = (typeof INCIDENT_TYPES)[number]

/** What failed: the table whose row `source_id` names. */
export type IncidentSource = 'handoff' | 'portalEvent' | 'citizenNotification' | 'peerCallback'

/** An incident (sự cố) as Camunda 7 opens one: something sent out whose retries ran out, waiting for a person. */
export interface IncidentRow {
  id: string
  type: IncidentType
  source: IncidentSource
  source_id: string
  /** Set for handoffs only, as are the instance and activity. */
  handoff_id: string | null
  dossier_id: string
  instance_id: string | null
  procedure_code: string
  agency: string
  receiving_agency: string | null
  activity_id: string | null
  message: string
  details: Record<string, unknown> | null
  state: 'open' | 'resolved'
  created_at: Date
  resolved_at: Date | null
  resolved_by: string | null
  note: string | null
}

/** An incident of something other than a handoff: its dossier's fields come from the dossier row. */
export interface OutgoingIncident {
  id: string
  type: Exclude<IncidentType, 'failedExternalTask' | 'failedJob'>
  source: Exclude<IncidentSource, 'handoff'>
  sourceId: string
  dossierId: string
  receivingAgency?: string | null
  message: string
  details: Record<string, unknown>
}

export interface IncidentFilter {
  /** Only these kinds (what the caller may see). */
  types?: readonly IncidentType[]
  agency?: string
  procedureCode?: string
  dossierId?: string
  state?: 'open' | 'resolved'
  limit: number
  after?: { at: string; id: string }
}

export function createIncidentRepository() {
  return {
    find: (q: Queryable, id: string) => read<IncidentRow>(q('incidents').where({ id }).select('*')),
    lock: (q: Queryable, id: string) => read<IncidentRow>(q('incidents').where({ id }).forUpdate().select('*')),
    /** Opens one for a handoff (a handoff has at most one open incident). */
    open(
      q: Queryable,
      row: Omit<IncidentRow, 'state' | 'resolved_at' | 'resolved_by' | 'note' | 'source' | 'source_id' | 'details' | 'handoff_id'> & {
        handoff_id: string
      },
    ) {
      const ins = q('incidents')
        .insert({ ...row, source: 'handoff', source_id: row.handoff_id })
        .toSQL()
      return write(q.raw(`${ins.sql} ON CONFLICT (source, source_id) WHERE state = 'open' DO NOTHING`, ins.bindings))
    },
    /**
     * Opens the incident of something sent out whose retries ran out, with its dossier history line,
     * in one statement: when its source already has an open incident (a duplicate final failure),
     * neither is written.
     */
    openOutgoing: (q: Queryable, i: OutgoingIncident, now: Date) =>
      write(
        q.raw(
          `WITH ins AS (
             INSERT INTO incidents (id, type, source, source_id, dossier_id, procedure_code, agency, receiving_agency, message, details, created_at)
             SELECT :id, :type, :source, :sourceId, d.id, d.procedure_code, d.agency, :receivingAgency, :message, :details::jsonb, :now
               FROM dossiers d WHERE d.id = :dossierId
             ON CONFLICT (source, source_id) WHERE state = 'open' DO NOTHING
             RETURNING id, dossier_id)
           INSERT INTO history (dossier_id, action, actor, details, at)
           SELECT dossier_id, 'incident.opened', 'system',
                  jsonb_build_object('incidentId', id, 'type', :type::text, 'source', :source::text, 'sourceId', :sourceId::text, 'message', :message::text),
                  :now FROM ins`,
          {
            id: i.id,
            type: i.type,
            source: i.source,
            sourceId: i.sourceId,
            dossierId: i.dossierId,
            receivingAgency: i.receivingAgency ?? null,
            message: i.message.slice(0, 2000),
            details: JSON.stringify(i.details),
            now,
          },
        ),
      ),
    /** Closes the open incident of a source that then succeeded (after a retry); with a history line. */
    resolveForSource: (q: Queryable, source: Exclude<IncidentSource, 'handoff'>, sourceId: string, note: string, now: Date) =>
      write(
        q.raw(
          `WITH r AS (UPDATE incidents SET state = 'resolved', resolved_at = :now, resolved_by = 'system', note = :note
                      WHERE source = :source AND source_id = :sourceId AND state = 'open' RETURNING id, dossier_id)
           INSERT INTO history (dossier_id, action, actor, details, at)
           SELECT dossier_id, 'incident.resolved', 'system', jsonb_build_object('incidentId', id, 'source', :source::text, 'sourceId', :sourceId::text, 'note', :note::text), :now FROM r`,
          { now, note, source, sourceId },
        ),
      ),
    /** Open incidents by kind (of an agency, or every one): what supervisors count. */
    openByType: (q: Queryable, agency: string | null) =>
      read<{ type: IncidentType; open: number }>(
        q.raw(
          `SELECT type, count(*)::int AS open FROM incidents
           WHERE state = 'open' AND (CAST(:agency AS text) IS NULL OR agency = :agency)
           GROUP BY type ORDER BY type`,
          { agency },
        ),
      ),
    resolve: (q: Queryable, id: string, by: string, note: string | null, now: Date) =>
      write(q('incidents').where({ id, state: 'open' }).update({ state: 'resolved', resolved_at: now, resolved_by: by, note })),
    /** Closes the handoff's open incident (it succeeded after a retry); with a history line. */
    resolveForHandoff: (q: Queryable, handoffId: string, by: string, now: Date) =>
      write(
        q.raw(
          `WITH r AS (UPDATE incidents SET state = 'resolved', resolved_at = :now, resolved_by = :by, note = 'handoff completed'
                      WHERE handoff_id = :handoffId AND state = 'open' RETURNING id, dossier_id, activity_id)
           INSERT INTO history (dossier_id, activity_id, action, actor, details, at)
           SELECT dossier_id, activity_id, 'incident.resolved', :by, jsonb_build_object('incidentId', id, 'handoffId', :handoffId), :now FROM r`,
          { now, by, handoffId },
        ),
      ),
    list(q: Queryable, f: IncidentFilter) {
      const query = q('incidents').orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      if (f.types) void query.whereIn('type', [...f.types])
      if (f.agency) void query.where('agency', f.agency)
      if (f.procedureCode) void query.where('procedure_code', f.procedureCode)
      if (f.dossierId) void query.where('dossier_id', f.dossierId)
      if (f.state) void query.where('state', f.state)
      if (f.after) void query.whereRaw('(created_at, id) > (?, ?)', [f.after.at, f.after.id])
      return read<IncidentRow>(query.limit(f.limit).select('*'))
    },
  }
}
export type IncidentRepository = ReturnType<typeof createIncidentRepository>
