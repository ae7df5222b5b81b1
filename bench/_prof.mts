import autocannon from 'autocannon';
import { formBody, signedRequest } from '/work/main/test/helpers/sign.js';
const url = process.argv[2]!;
const r = await signedRequest(url, formBody({ Action: 'DescribeRegions' }));
const res = await autocannon({ url, connections: 16, duration: 4, requests: [{ method: r.method, path: r.path, headers: r.headers, body: r.body }] });
console.log(res.requests.average);
