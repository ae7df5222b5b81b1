/** Every state machine the record-states reconciler runs (record-lifecycles.ts), one per kind. */
import type { AnyStateMachine } from './state-machines.js';
import { endpointServiceLifecycle } from './vpc-endpoint-services.js';
import { vpcEndpointLifecycle } from './vpc-endpoints.js';
import { carrierGatewayLifecycle } from './carrier-gateways.js';
import { customerGatewayLifecycle } from './customer-gateways.js';
import { vpnGatewayLifecycle } from './vpn-gateways.js';
import { vpnConnectionLifecycle } from './vpn-connections.js';

export const RECORD_LIFECYCLES: readonly AnyStateMachine[] = [vpcEndpointLifecycle, endpointServiceLifecycle, carrierGatewayLifecycle, customerGatewayLifecycle, vpnGatewayLifecycle, vpnConnectionLifecycle];
