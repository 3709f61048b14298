// Where fleets.json lives: a private bucket behind CloudFront with short cache times, and the KMS key that signs each version.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { RegistryConfig } from '../fleet/config.ts';
import { fleetSlug } from './resource-names.ts';

/** Path prefix under which CloudFront forwards read-only requests to the fleet API. */
export const API_PATH_PATTERN = '/api/*';
const ACCESS_LOG_RETENTION = Duration.days(90);

export interface FleetRegistryProps {
  fleet: string;
  registry: RegistryConfig;
  /**
   * What happens to the registry bucket and the signing key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  removalPolicy?: RemovalPolicy;
}

/**
 * The published registry. The publisher Lambda writes `fleets.json`, its detached signature
 * (`fleets.json.sig`), `registry.json` and the signing key's public half (`fleets.pub.pem`, fetched from
 * KMS with GetPublicKey at run time) into the bucket; clients read them through CloudFront.
 */
export class FleetRegistry extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** ECC_NIST_P256 SIGN_VERIFY key; the private half never leaves KMS. */
  readonly signingKey: kms.Key;
  readonly signingKeyAlias: kms.Alias;

  constructor(scope: Construct, id: string, props: FleetRegistryProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: ACCESS_LOG_RETENTION }],
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3-managed keys: CloudFront's origin access control reads SSE-S3 objects without a key policy.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'registry-bucket/',
      removalPolicy,
    });

    this.signingKey = new kms.Key(this, 'SigningKey', {
      description: `Signs each fleets.json version of ${props.fleet}`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy,
    });
    const aliasName =
      props.registry.signingKey.kind === 'kms'
        ? props.registry.signingKey.keyAlias
        : `alias/storefleet/${fleetSlug(props.fleet)}/registry`;
    this.signingKeyAlias = this.signingKey.addAlias(aliasName) as kms.Alias;

    const ttl = Duration.seconds(props.registry.cacheMaxAgeSeconds);
    const cachePolicy = new cloudfront.CachePolicy(this, 'ShortTtl', {
      comment: `fleets.json of ${props.fleet}: cached at most ${props.registry.cacheMaxAgeSeconds} s`,
      defaultTtl: ttl,
      maxTtl: ttl,
      minTtl: Duration.seconds(0),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Registry of ${props.fleet}`,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    });
    for (const [rule, reason] of [
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
      [
        'AwsSolutions-CFR4',
        'The default cloudfront.net certificate allows old TLS versions; attach a custom domain and certificate to enforce TLS 1.2.',
      ],
    ] as const) {
      Validations.of(this.distribution).acknowledge({ id: rule, reason });
    }
  }

  /**
   * Serves the API's read-only routes publicly through the registry's distribution. CloudFront signs its
   * requests to the IAM-authenticated function URL; mutations must still go to the URL with SigV4.
   */
  addReadOnlyApi(functionUrl: lambda.IFunctionUrl): void {
    this.distribution.addBehavior(
      API_PATH_PATTERN,
      origins.FunctionUrlOrigin.withOriginAccessControl(functionUrl),
      {
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
    );
  }
}
