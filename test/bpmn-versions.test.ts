import t from 'tap'
import { testContext } from './helpers/context.ts'
import { caller } from './helpers/api.ts'

/**
 * Versions (phiên bản quy trình) as Camunda 7 with duplicate filtering: a deploy is compared with
 * the latest version only, so going back to an earlier diagram makes it the latest again.
 */
const diagram = (taskName: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Versioned" name="Thủ tục có phiên bản" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="${taskName}" />
    <bpmn:userTask id="${taskName}" name="${taskName}" camunda:candidateGroups="one-stop"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="${taskName}" targetRef="End" />
    <bpmn:endEvent id="End"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>`

t.test('re-deploying an earlier diagram after a newer one creates a new version with that content, which new dossiers run', async (t) => {
  const ctx = await testContext(t)
  const reception = await caller(ctx, { userId: 'mot-cua', roles: ['officer'], groups: ['one-stop'] })
  const firstTask = async () => {
    const r = await reception.post('/api/dossiers', {
      procedureCode: 'Versioned',
      applicant: { name: 'Lê Văn Cường', idNumber: '001090011111' },
      channel: 1,
      data: {},
    })
    t.equal(r.status, 201, JSON.stringify(r.body))
    return r.body.tasks[0].activityId
  }
  t.match((await ctx.deploy(diagram('CheckV1'))).body, { created: true, version: 1 })
  t.match((await ctx.deploy(diagram('CheckV2'))).body, { created: true, version: 2 })
  t.equal(await firstTask(), 'CheckV2')

  const back = await ctx.deploy(diagram('CheckV1'))
  t.equal(back.status, 201, 'the earlier diagram again → 201, a new version')
  t.match(back.body, { created: true, version: 3 })
  t.equal(await firstTask(), 'CheckV1', 'new dossiers run the content deployed last')

  const same = await ctx.deploy(diagram('CheckV1'))
  t.equal(same.status, 200, 'the latest content again → 200')
  t.match(same.body, { created: false, version: 3 })
  const versions = await ctx.db('procedure_versions').where({ procedure_code: 'Versioned' }).orderBy('version')
  t.same(
    versions.map((v) => v.version),
    [1, 2, 3],
  )
  t.equal(versions[0].content_hash, versions[2].content_hash, 'versions 1 and 3 hold the same content')
})
