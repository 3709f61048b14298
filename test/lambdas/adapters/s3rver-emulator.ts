// Starts s3rver (a file-backed S3) on a loopback port with the given buckets, in a temporary folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = require('s3rver') as new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

export interface S3Emulator {
  client: S3Client;
  close(): Promise<void>;
}

export async function startS3Emulator(bucketNames: readonly string[]): Promise<S3Emulator> {
  const directory = await mkdtemp(join(tmpdir(), 'storefleet-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: bucketNames.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 1,
    // s3rver predates the SDK's default CRC checksums; ask for them only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    client,
    close: async () => {
      // Closing the client's keep-alive sockets first lets the server close at once.
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
