// Environment variable names that the CDK app sets on each Lambda and watcher task, and the runtime reads: one spelling for both sides.

export const FUNCTION_ENVIRONMENT = {
  /** Fleet name as in the config, e.g. `status.prod`. */
  fleet: 'STOREFLEET_FLEET',
  /** SSM parameter holding the validated fleet config (JSON, defaults applied). */
  configParameter: 'STOREFLEET_CONFIG_PARAMETER',
  /** SSM parameter holding the deployment topology (JSON, see DeploymentTopology). */
  deploymentParameter: 'STOREFLEET_DEPLOYMENT_PARAMETER',
  /** Region of both parameters and of the DynamoDB tables (the fleet's primary region). */
  controlRegion: 'STOREFLEET_CONTROL_REGION',
  probeResultsTable: 'STOREFLEET_PROBE_RESULTS_TABLE',
  nodeStateTable: 'STOREFLEET_NODE_STATE_TABLE',
  /**
   * Watcher tasks: the vantage point this watcher probes from (`storefleet watch --vantage ID`
   * takes precedence). The watcher of the first vantage point in the control region also decides
   * and publishes.
   */
  vantageId: 'STOREFLEET_VANTAGE_ID',
  /** Watchers only: the region the task runs in; its own AWS clients are given it explicitly. */
  region: 'STOREFLEET_REGION',
  /**
   * Watchers only: `true` on the one watcher that also decides and publishes every round (the
   * first vantage point of the control region); absent on every other watcher.
   */
  controller: 'STOREFLEET_CONTROLLER',
  /** Scheduled functions: how long one invocation keeps looping before it returns (seconds). */
  loopSeconds: 'STOREFLEET_LOOP_SECONDS',
  registryBucket: 'STOREFLEET_REGISTRY_BUCKET',
  /** KMS key id (or alias) that signs each registry version. */
  signingKeyId: 'STOREFLEET_SIGNING_KEY_ID',
  /** Name of the stress function (the API starts stress tests on demand). */
  stressFunction: 'STOREFLEET_STRESS_FUNCTION',
  /** Name of the publisher function (the controller asks for a publication after a decision). */
  publisherFunction: 'STOREFLEET_PUBLISHER_FUNCTION',
  /**
   * Optional, watcher tasks: the host name of a node's REST API inside the VPC.
   * @default the node id (Cloud Map resolves it to the node's task)
   */
  nodeRestHost: 'STOREFLEET_NODE_REST_HOST',
  /**
   * Optional, emulated AWS only (never set by the CDK app): JSON `{ service: { region: url } }`
   * naming the local endpoint of each service in each region, e.g.
   * `{"dynamodb":{"eu-central-1":"http://127.0.0.1:4600"}}`. A client of a region the map does not
   * list for its service cannot be created.
   */
  awsEndpoints: 'STOREFLEET_AWS_ENDPOINTS',
} as const;

/** One store node as deployed: where its ECS service runs and where its public addresses are published. */
export interface DeployedNode {
  nodeId: string;
  region: string;
  cluster: string;
  service: string;
  /** SSM parameter (in `region`) with `{ [nodeId]: { ip, tcp, websocket, secureWebsocket? } }`. */
  addressesParameter: string;
}

/** The JSON stored in the deployment parameter. */
export interface DeploymentTopology {
  fleet: string;
  controlRegion: string;
  nodes: DeployedNode[];
}
