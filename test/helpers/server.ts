/** Starts an Overcast server for a test (temp data dir, random port) and an SDK client for it. */
import { EC2Client } from '@aws-sdk/client-ec2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CREDENTIAL, loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer, type ServerHooks } from '../../src/server.js';

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  client(region?: string): EC2Client;
  /** restart on the same data dir (state must survive) */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<Config> = {}, keepDir?: string, hooks: ServerHooks = {}): Promise<TestServer> {
  const dataDir = keepDir ?? mkdtempSync(join(tmpdir(), 'overcast-test-'));
  const config: Config = { ...loadConfig([], {}), port: 0, dataDir, driver: 'mock', ...overrides };
  let server = await startServer(config, undefined, hooks);
  const clients: EC2Client[] = [];
  const t: TestServer = {
    get server() {
      return server;
    },
    get url() {
      return server.url;
    },
    dataDir,
    client(region = 'us-east-1') {
      const c = new EC2Client({
        endpoint: server.url,
        region,
        credentials: { accessKeyId: DEFAULT_CREDENTIAL.accessKeyId, secretAccessKey: DEFAULT_CREDENTIAL.secretAccessKey },
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    },
    async restart() {
      await server.close();
      server = await startServer({ ...config, port: 0 }, undefined, hooks);
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.close();
      if (!keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  } as TestServer;
  return t;
}

/** Awaits a promise expected to fail with an EC2 error; returns its code (name) and HTTP status. */
export async function ec2Error(p: Promise<unknown>): Promise<{ code: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { code: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
