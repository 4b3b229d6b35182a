import { Type } from '@fastify/type-provider-typebox'
import { AUTH, errorResponses, fileResponse, INPUT, NullableOpenObject, NullableString, OpenObject, Timestamp } from '../http/schemas.ts'

/** Version numbers are Postgres integers. */
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })
const Code = Type.String({ minLength: 1, maxLength: 64 })
const CodeParam = Type.Object({ code: Code })
const VersionParams = Type.Object({ code: Code, version: VersionNumber })
/** A diagram upload: raw XML, larger limit than JSON bodies. */
const XML_BODY = ['XML_BODY_REQUIRED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const

const Finding = Type.Object({
  elementId: NullableString,
  code: Type.String(),
  message: Type.String(),
  severity: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('warning')])),
})

const Version = Type.Object({
  procedureCode: Type.String(),
  version: Type.Integer(),
  contentHash: Type.String(),
  processId: Type.String(),
  metadata: OpenObject('Procedure metadata read from <tthc:procedure> (docs/procedures.md)'),
  warnings: Type.Array(Type.Unknown()),
  deployedBy: Type.String(),
  deployedAt: Timestamp,
})
const Deployed = Type.Object({ created: Type.Boolean(), ...Version.properties })

export const deploySchema = {
  tags: ['procedures'],
  summary:
    "Deploy a BPMN diagram (body: the XML). 201 new version, 200 unchanged, 422 findings. Analysts deploy for their own agency; a new version keeps the procedure's owner agency unless an admin passes transfer=true.",
  consumes: ['application/xml', 'text/xml'],
  querystring: Type.Object(
    {
      transfer: Type.Optional(Type.Boolean({ description: "Admin only: the diagram's agency becomes the owner of an existing procedure" })),
    },
    { additionalProperties: false },
  ),
  response: {
    201: { ...Deployed, description: 'A new version' },
    200: { ...Deployed, description: 'The diagram is unchanged: the same version' },
    ...errorResponses(AUTH, INPUT, XML_BODY, 'FORBIDDEN', 'PROCEDURE_AGENCY_FORBIDDEN', 'PROCEDURE_OWNED_BY_OTHER_AGENCY', 'BPMN_INVALID'),
  },
}

export const validateSchema = {
  tags: ['procedures'],
  summary: 'Validate a diagram without deploying it',
  consumes: ['application/xml', 'text/xml'],
  response: {
    200: Type.Object({ valid: Type.Boolean(), metadata: NullableOpenObject(), findings: Type.Array(Finding) }),
    ...errorResponses(AUTH, INPUT, XML_BODY, 'FORBIDDEN'),
  },
}

export const listProceduresSchema = {
  tags: ['procedures'],
  summary: 'Procedures, by code',
  querystring: Type.Object(
    {
      agency: Type.Optional(Type.String({ maxLength: 100 })),
      limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
      after: Type.Optional(Type.String({ maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object({
      items: Type.Array(
        Type.Object({
          code: Type.String(),
          name: Type.String(),
          agency: Type.String(),
          latestVersion: Type.Integer(),
          updatedAt: Timestamp,
        }),
      ),
      nextAfter: NullableString,
    }),
    ...errorResponses(AUTH, INPUT),
  },
}

export const getProcedureSchema = {
  tags: ['procedures'],
  summary: 'The procedure and its latest metadata',
  params: CodeParam,
  response: {
    200: Type.Object({
      code: Type.String(),
      name: Type.String(),
      agency: Type.String(),
      latestVersion: Type.Integer(),
      metadata: NullableOpenObject(),
    }),
    ...errorResponses(AUTH, INPUT, 'PROCEDURE_NOT_FOUND'),
  },
}

export const listVersionsSchema = {
  tags: ['procedures'],
  summary: 'Every version of the procedure',
  params: CodeParam,
  response: { 200: Type.Object({ items: Type.Array(Version) }), ...errorResponses(AUTH, INPUT, 'PROCEDURE_NOT_FOUND') },
}

export const getVersionSchema = {
  tags: ['procedures'],
  summary: 'One version',
  params: VersionParams,
  response: { 200: Version, ...errorResponses(AUTH, INPUT, 'PROCEDURE_NOT_FOUND', 'PROCEDURE_VERSION_NOT_FOUND') },
}

export const versionXmlSchema = {
  tags: ['procedures'],
  summary: 'The diagram as deployed',
  params: VersionParams,
  response: {
    200: fileResponse('BPMN XML', ['application/xml']),
    ...errorResponses(AUTH, INPUT, 'PROCEDURE_NOT_FOUND', 'PROCEDURE_VERSION_NOT_FOUND'),
  },
}
