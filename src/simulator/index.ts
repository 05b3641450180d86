/**
 * Local simulator of the Selligent (Marigold Engage) V1 REST API described in the project's API contract.
 * Self-contained: it shares no code with the exporter's Selligent client.
 *
 *   const sim = await startSimulator({ port: 0 });
 *   // point the exporter at sim.baseUrl with DEV_API_KEY / DEV_API_SECRET, organization DEFAULT_ORGANIZATION
 *   await sim.close();
 */

import { SimulatorServer } from './lifecycle.js';
import type { SimulatorHandle, SimulatorOptions } from './types.js';

export { PortInUseError } from './lifecycle.js';
export {
  DEV_API_KEY,
  DEV_API_SECRET,
  DEFAULT_ORGANIZATION,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT,
  SimulatorOptionsError,
  VARIANT_NAMES,
} from './options.js';
export type {
  ConfigurablePatch,
  CredentialOptions,
  DataType,
  FaultControls,
  FaultRule,
  FaultStatus,
  RateLimitOptions,
  RequestLogEntry,
  RouteName,
  SeedField,
  SeedList,
  SeedSegment,
  SeedState,
  SegmentSemantics,
  SimulatorHandle,
  SimulatorOptions,
  Variants,
} from './types.js';
export { DEFAULT_VARIANTS } from './variants.js';
export { ROUTE_NAMES, DATA_TYPES } from './types.js';

/** Starts a simulator and resolves once it listens. Close it with `handle.close()`. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const server = new SimulatorServer(options);
  await server.start();
  return server;
}
