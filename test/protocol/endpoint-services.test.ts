/** QueryEndpoint with handlers that answer with promises (async handlers), for EC2 and an awsJson service. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Ec2Error } from '../../src/domain/errors.js';
import { ec2Model, ssmModel, stsModel } from '../../src/protocol/model/index.js';
import { QueryEndpoint } from '../../src/protocol/query-endpoint.js';

describe('endpoint: promise results', () => {
  let server: Server;
  let url: string;
  const calls: string[] = [];
  before(async () => {
    const later = <T>(v: () => T): Promise<T> => new Promise((resolve, reject) => setImmediate(() => {
      try {
        resolve(v());
      } catch (e) {
        reject(e as Error);
      }
    }));
    const endpoint = new QueryEndpoint({
      model: ec2Model,
      auth: 'any',
      secretFor: () => undefined,
      defaultRegion: 'eu-north-1',
      isRegionServed: () => true,
      implements: (a) => a === 'DescribeRegions' || a === 'DescribeVpcs',
      admit: () => true,
      invoke: (a, region) => {
        calls.push(`ec2:${a}:${region}`);
        if (a === 'DescribeVpcs') return later(() => { throw new Ec2Error('InvalidVpcID.NotFound', 'no such vpc'); });
        return later(() => ({ Regions: [{ RegionName: region }] }));
      },
      services: [
        {
          model: ssmModel,
          implements: (op) => op === 'GetParameter',
          invoke: (op, _region, _id, input) => {
            calls.push(`ssm:${op}`);
            const name = input.Name as string;
            return later(() => {
              if (name !== '/x') throw new Ec2Error('ParameterNotFound', name);
              return { Parameter: { Name: name, Value: 'v', LastModifiedDate: new Date(2000) } };
            });
          },
        },
        { model: stsModel, implements: () => true, invoke: () => ({ Account: '1', Arn: 'a', UserId: 'u' }) },
      ],
    });
    server = createServer(endpoint.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const form = (body: string) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const ssm = (body: unknown) =>
    fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' } });

  it('EC2: a resolved promise is serialized, a rejected one is the EC2 error document', async () => {
    const ok = await form('Action=DescribeRegions&Version=2016-11-15');
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<regionInfo><item><regionName>eu-north-1<\/regionName><\/item><\/regionInfo>/);
    const bad = await form('Action=DescribeVpcs&Version=2016-11-15');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /<Code>InvalidVpcID\.NotFound<\/Code>/);
  });

  it('awsJson: a resolved promise is JSON, a rejected one the JSON error', async () => {
    const ok = await ssm({ Name: '/x' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { Parameter: { Name: '/x', Value: 'v', LastModifiedDate: 2 } });
    const bad = await ssm({ Name: '/y' });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-amzn-errortype'), 'ParameterNotFound');
    assert.deepEqual(await bad.json(), { __type: 'ParameterNotFound', message: '/y' });
  });

  it('awsQuery: a synchronous result still goes out', async () => {
    const ok = await form('Action=GetCallerIdentity&Version=2011-06-15');
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<GetCallerIdentityResult><UserId>u<\/UserId><Account>1<\/Account><Arn>a<\/Arn><\/GetCallerIdentityResult>/);
    assert.ok(calls.includes('ec2:DescribeRegions:eu-north-1') && calls.includes('ssm:GetParameter'));
  });
});
