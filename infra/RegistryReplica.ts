// The registry's copy in a second region: S3 replicates every object into it and CloudFront reads it when the primary origin fails.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { fleetSlug } from './resource-names.ts';

/** Replicas are a cache of the primary: kept as long as the primary keeps replaced objects. */
const REPLICA_RETENTION = Duration.days(7);

/** Fixed by fleet, account and region, so that the control stack names it without a cross-region reference. */
export function registryReplicaBucketName(fleet: string, account: string, region: string): string {
  return `storefleet-${fleetSlug(fleet)}-registry-${account}-${region}`;
}

export interface RegistryReplicaProps {
  fleet: string;
  /**
   * @default RemovalPolicy.RETAIN
   */
  removalPolicy?: RemovalPolicy;
}

export class RegistryReplica extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: RegistryReplicaProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: registryReplicaBucketName(props.fleet, stack.account, stack.region),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Replication needs versioning on both sides.
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'registry-replica/',
      lifecycleRules: [
        {
          expiration: REPLICA_RETENTION,
          prefix: 'fleets/',
        },
        { noncurrentVersionExpiration: REPLICA_RETENTION, expiredObjectDeleteMarker: true },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // The distribution lives in the control region and its id is unknown here: admit this account's distributions.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudFrontReadsTheReplica',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: {
          StringEquals: { 'AWS:SourceAccount': stack.account },
          ArnLike: {
            'AWS:SourceArn': stack.formatArn({
              service: 'cloudfront',
              region: '',
              resource: 'distribution',
              resourceName: '*',
            }),
          },
        },
      }),
    );
  }
}
