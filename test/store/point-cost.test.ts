/**
 * A point operation's store reads do not grow with the stored records: the
 * records JSON-parsed by one RunInstances(1), DescribeInstances(one id) and
 * CreateTags are counted (SqliteStore.readStats) with 50 and with 2,000
 * instances stored, and must be the same. Never wall-clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seedInstances } from '../../bench/seed.js';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig } from '../../src/config.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const REGION = 'us-east-1';

interface Reads {
  run: number;
  describe: number;
  tag: number;
}

function readsWith(stored: number): Reads {
  const store = new SqliteStore(':memory:');
  try {
    const config = loadConfig([], { OVERCAST_PUBLIC_IP_POOL: '100.64.0.0/16' });
    // most stored instances terminated (the live ones are capped by the account limit), some live
    const image = seedInstances(store, config, { region: REGION, terminated: stored - 20, live: 20 });
    const d = new Dispatcher(store, config, ec2Modules);
    const counted = (fn: () => unknown): number => {
      const before = store.readStats.records;
      fn();
      return store.readStats.records - before;
    };
    // a first call of each, so anything cached once per process is not counted
    const launch = (): string => {
      const out = d.invoke('RunInstances', REGION, 'r', { ImageId: image, MinCount: 1, MaxCount: 1 }) as { Instances: { InstanceId: string }[] };
      return out.Instances[0]!.InstanceId;
    };
    const id = launch();
    const describe = (): unknown => d.invoke('DescribeInstances', REGION, 'r', { InstanceIds: [id] });
    const tag = (): unknown => d.invoke('CreateTags', REGION, 'r', { Resources: [id], Tags: [{ Key: 'k', Value: 'v' }] });
    describe();
    tag();
    return { run: counted(launch), describe: counted(describe), tag: counted(tag) };
  } finally {
    store.close();
  }
}

describe('point operations read the same records whatever the store holds', () => {
  it('RunInstances(1), DescribeInstances(one id) and CreateTags with 50 and with 2,000 instances stored', () => {
    const small = readsWith(50);
    if (process.env.POINT_COST_DEBUG) console.log(small);
    const large = readsWith(2000);
    assert.deepEqual(large, small, `records read per call: 50 stored ${JSON.stringify(small)}, 2,000 stored ${JSON.stringify(large)}`);
    // and a small number: RunInstances reads the image, VPC, subnets and groups, not instances
    assert.ok(small.run < 200, `RunInstances read ${small.run} records`);
    assert.ok(small.describe <= 5, `DescribeInstances by id read ${small.describe} records`);
    assert.ok(small.tag <= 5, `CreateTags read ${small.tag} records`);
  });
});
