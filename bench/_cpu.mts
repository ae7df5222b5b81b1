import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { formBody, signedRequest } from '../test/helpers/sign.js';
const [url, pid] = [process.argv[2]!, process.argv[3]!];
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; }; // ms (CLK_TCK 100)
const r = await signedRequest(url, formBody({ Action: 'DescribeRegions' }));
const c0 = cpu();
const res = await autocannon({ url, connections: 16, duration: 4, requests: [{ method: r.method, path: r.path, headers: r.headers, body: r.body }] });
const c1 = cpu();
const n = res.requests.total;
console.log(`${res.requests.average.toFixed(0)} req/s, server CPU ${((c1 - c0) * 1000 / n).toFixed(1)} µs/request`);
