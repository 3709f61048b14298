// Where fleets.json lives: a private bucket that only takes conditional writes, behind CloudFront, the key that signs each version, and the dashboard page.
import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { RegistryConfig } from '../fleet/config.ts';
import { tagComponent } from './OfflineStack.ts';
import { fleetSlug } from './resource-names.ts';
import { acknowledgeWildcards } from './wildcard-findings.ts';

/** Path prefix under which CloudFront forwards read-only requests to the fleet API. */
export const API_PATH_PATTERN = '/api/*';
/** Immutable versions: `fleets/{sequence}.json` and its signature, never overwritten. */
export const VERSIONS_PREFIX = 'fleets/';
/** The objects a publisher replaces in place; each PUT must carry If-Match or If-None-Match. */
export const MUTABLE_REGISTRY_OBJECTS = [
  'fleets.json',
  'fleets.json.sig',
  'registry.json',
  'fleets.pub.pem',
] as const;
/** Where the dashboard page is served: `https://{registry}/dashboard/index.html`. */
export const DASHBOARD_KEY_PREFIX = 'dashboard/';
/** The page, read when the app is synthesised. */
export const DASHBOARD_PAGE = 'local/dashboard/index.html';
/** Old immutable versions and replaced objects are deleted after this; clients follow the pointer, not old versions. */
export const VERSION_RETENTION = Duration.days(7);
/** A version never changes, so edges may keep it as long as it exists. */
const IMMUTABLE_TTL = Duration.days(7);
/** Read-only API answers are shared by viewers for this long: a burst of dashboards costs one call. */
const API_CACHE_TTL = Duration.seconds(5);
const ACCESS_LOG_RETENTION = Duration.days(90);

export interface FleetRegistryProps {
  fleet: string;
  registry: RegistryConfig;
  /** Absolute path of the repository root, where the dashboard page is read from. */
  projectRoot: string;
  /**
   * What happens to the registry bucket and a key created here when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  removalPolicy?: RemovalPolicy;
  /**
   * A custom domain for the distribution, with its certificate (ACM, us-east-1).
   * @default - the cloudfront.net name only
   */
  customDomain?: { name: string; certificate: acm.ICertificate };
  /**
   * Creates an alias record for the custom domain.
   * @default - no record
   */
  hostedZone?: route53.IHostedZone;
  /**
   * The replica bucket in a second region (see RegistryReplica): CloudFront falls back to it
   * when the primary origin fails, so a control-region outage leaves the last version readable.
   * @default - no replica
   */
  replica?: { bucketName: string; region: string };
}

/**
 * The published registry. A publisher writes each version once as `fleets/{sequence}.json` (and
 * its `.sig`), then replaces `fleets.json`, its signature, `registry.json` and the public key
 * with conditional PUTs; the bucket policy refuses any PUT of those objects without
 * `If-Match`/`If-None-Match`, and any PUT of a version without `If-None-Match` (versions are never
 * overwritten). CloudFront keeps versions for days and the pointer for `registry.cacheMaxAgeSeconds`.
 */
export class FleetRegistry extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** ECC_NIST_P256 SIGN_VERIFY key (created, or the existing one the config names). */
  readonly signingKey: kms.IKey;
  /** What the publisher passes to KMS Sign: the alias or the key ARN. */
  readonly signingKeyId: string;
  /** IAM statement granting Sign and GetPublicKey on the key, whichever way it was named. */
  readonly signingGrant: iam.PolicyStatement;
  /** Public URL of the dashboard page. */
  readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: FleetRegistryProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const stack = Stack.of(this);

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: ACCESS_LOG_RETENTION }],
      removalPolicy,
    });
    const replicaBucket = props.replica
      ? s3.Bucket.fromBucketAttributes(this, 'Replica', {
          bucketName: props.replica.bucketName,
          region: props.replica.region,
        })
      : undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // Every version and pointer reaches the replica too, so its copy is never older than a replication delay.
      replicationRules: replicaBucket ? [{ destination: replicaBucket, priority: 1 }] : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3-managed keys: CloudFront's origin access control reads SSE-S3 objects without a key policy.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'registry-bucket/',
      lifecycleRules: [
        { id: 'OldVersions', prefix: VERSIONS_PREFIX, expiration: VERSION_RETENTION },
        {
          id: 'ReplacedObjects',
          noncurrentVersionExpiration: VERSION_RETENTION,
          expiredObjectDeleteMarker: true,
        },
      ],
      removalPolicy,
    });
    const replicationRole = this.bucket.node.tryFindChild('ReplicationRole');
    if (replicationRole) {
      acknowledgeWildcards(replicationRole, [
        {
          finding:
            /^Resource::(<[A-Za-z0-9]+\.Arn>|arn:<AWS::Partition>:s3:::storefleet-[a-z0-9-]+-registry-[^/]+)\/\*$/,
          reason:
            'S3 replication reads every object version of the registry bucket and writes it into the replica bucket; CDK scopes the role to those two buckets.',
        },
      ]);
    }
    // Conditional writes, enforced by S3 itself: an unconditional PUT is refused whoever sends it.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RegistryObjectsOnlyByConditionalWrite',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: MUTABLE_REGISTRY_OBJECTS.map((key) => this.bucket.arnForObjects(key)),
        conditions: { Null: { 's3:if-match': 'true', 's3:if-none-match': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'VersionsAreWrittenOnce',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${VERSIONS_PREFIX}*`)],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );

    const existing =
      props.registry.signingKey.kind === 'kms' ? props.registry.signingKey : undefined;
    if (existing?.keyArn) {
      this.signingKey = kms.Key.fromKeyArn(this, 'SigningKey', existing.keyArn);
      this.signingKeyId = existing.keyArn;
      this.signingGrant = new iam.PolicyStatement({
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [existing.keyArn],
      });
    } else if (existing?.keyAlias) {
      // An existing alias: used as it is, never re-created (that would collide with it).
      const alias = kms.Alias.fromAliasName(this, 'SigningKey', existing.keyAlias);
      this.signingKey = alias;
      this.signingKeyId = existing.keyAlias;
      this.signingGrant = new iam.PolicyStatement({
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': existing.keyAlias } },
      });
    } else {
      const key = new kms.Key(this, 'SigningKey', {
        description: `Signs each fleets.json version of ${props.fleet}`,
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        removalPolicy,
      });
      const alias = key.addAlias(`alias/storefleet/${fleetSlug(props.fleet)}/registry`);
      this.signingKey = key;
      this.signingKeyId = alias.aliasName;
      this.signingGrant = new iam.PolicyStatement({
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [key.keyArn],
      });
    }

    const pointerTtl = Duration.seconds(props.registry.cacheMaxAgeSeconds);
    const pointerCache = new cloudfront.CachePolicy(this, 'ShortTtl', {
      comment: `fleets.json of ${props.fleet}: cached at most ${props.registry.cacheMaxAgeSeconds} s`,
      defaultTtl: pointerTtl,
      maxTtl: pointerTtl,
      minTtl: Duration.seconds(0),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const versionCache = new cloudfront.CachePolicy(this, 'ImmutableVersions', {
      comment: `fleets/{sequence}.json of ${props.fleet}: written once, cached for days`,
      defaultTtl: IMMUTABLE_TTL,
      maxTtl: IMMUTABLE_TTL,
      minTtl: IMMUTABLE_TTL,
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const primary = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const origin = props.replica
      ? new origins.OriginGroup({
          primaryOrigin: primary,
          // The replica's own bucket policy admits this account's distributions (RegistryReplica).
          fallbackOrigin: origins.S3BucketOrigin.withOriginAccessControl(
            replicaBucket as s3.IBucket,
          ),
          fallbackStatusCodes: [500, 502, 503, 504, 403, 404],
        })
      : primary;
    const readOnly = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Registry of ${props.fleet}`,
      defaultBehavior: { ...readOnly, cachePolicy: pointerCache },
      additionalBehaviors: { [`/${VERSIONS_PREFIX}*`]: { ...readOnly, cachePolicy: versionCache } },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      domainNames: props.customDomain ? [props.customDomain.name] : undefined,
      certificate: props.customDomain?.certificate,
      minimumProtocolVersion: props.customDomain
        ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021
        : undefined,
    });
    const acknowledged: Array<[string, string]> = [
      [
        'AwsSolutions-CFR1',
        'Waku clients anywhere must be able to read the registry; no geography is excluded.',
      ],
      [
        'AwsSolutions-CFR2',
        'Static, signed, read-only content; WAF costs more than the traffic it would filter. Revisit if abused.',
      ],
      [
        'AwsSolutions-CFR3',
        'Standard logs need an ACL-enabled bucket; request volume is visible in CloudFront metrics on the dashboard.',
      ],
    ];
    if (!props.customDomain) {
      acknowledged.push([
        'AwsSolutions-CFR4',
        'The default cloudfront.net certificate allows old TLS versions; a custom domain (registryDomain) enforces TLS 1.2.',
      ]);
    }
    for (const [rule, reason] of acknowledged) {
      Validations.of(this.distribution).acknowledge({ id: rule, reason });
    }
    const host = props.customDomain?.name ?? this.distribution.distributionDomainName;
    this.dashboardUrl = `https://${host}/${DASHBOARD_KEY_PREFIX}index.html`;
    if (props.customDomain && props.hostedZone) {
      new route53.ARecord(this, 'Name', {
        zone: props.hostedZone,
        recordName: props.customDomain.name,
        target: route53.RecordTarget.fromAlias(
          new route53Targets.CloudFrontTarget(this.distribution),
        ),
      });
    }

    this.deployDashboard(props.projectRoot);
  }

  /** The dashboard page, as read at synth time; it fetches /fleets.json and /api/* from this same distribution. */
  private deployDashboard(projectRoot: string): void {
    const page = readFileSync(`${projectRoot}/${DASHBOARD_PAGE}`, 'utf8');
    const deployment = new s3deploy.BucketDeployment(this, 'DashboardPage', {
      sources: [s3deploy.Source.data('index.html', page)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: DASHBOARD_KEY_PREFIX,
      // Everything else in the bucket is the publisher's: never prune it.
      prune: false,
      contentType: 'text/html; charset=utf-8',
      cacheControl: [s3deploy.CacheControl.maxAge(Duration.minutes(1))],
      distribution: this.distribution,
      distributionPaths: [`/${DASHBOARD_KEY_PREFIX}*`],
      memoryLimit: 256,
    });
    const handler = deployment.handlerRole;
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The CDK bucket deployment function uses the AWS-managed basic execution policy to write its own logs.',
    });
    acknowledgeWildcards(handler, [
      {
        finding:
          /^(Action::s3:[A-Za-z]+\*|Resource::\*|Resource::<[A-Za-z0-9]+\.Arn>\/\*|Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.+\/\*)$/,
        reason:
          'The CDK bucket deployment reads its staged asset and copies it under dashboard/ of the registry bucket; CDK writes this policy, scoped to the two buckets.',
      },
    ]);
    const stack = Stack.of(this);
    for (const child of stack.node.children) {
      if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
        tagComponent(child, 'registry');
        Validations.of(child).acknowledge({
          id: 'AwsSolutions-L1',
          reason:
            'The CDK bucket deployment function runs on the runtime aws-cdk-lib chooses; it runs only during deploys.',
        });
      }
    }
  }

  /**
   * Serves the API's read-only routes publicly through the registry's distribution. CloudFront signs its
   * requests to the IAM-authenticated function URL; mutations must still go to the URL with SigV4.
   */
  addReadOnlyApi(functionUrl: lambda.IFunctionUrl): void {
    const apiCache = new cloudfront.CachePolicy(this, 'ApiShortCache', {
      comment: 'Read-only API answers: shared for a few seconds',
      defaultTtl: API_CACHE_TTL,
      maxTtl: API_CACHE_TTL,
      minTtl: Duration.seconds(0),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.distribution.addBehavior(
      API_PATH_PATTERN,
      origins.FunctionUrlOrigin.withOriginAccessControl(functionUrl),
      {
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: apiCache,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
    );
  }
}
