/** Every EC2 resource family Overcast implements. */
import type { ApiModule } from '../context.js';
import { addressesModule } from './addresses.js';
import { flowLogsModule } from './flow-logs.js';
import { imagesModule } from './images.js';
import { instanceTypesModule } from './instance-types.js';
import { instancesModule } from './instances.js';
import { internetGatewaysModule } from './internet-gateways.js';
import { keyPairsModule } from './key-pairs.js';
import { launchTemplatesModule } from './launch-templates.js';
import { networkAclsModule } from './network-acls.js';
import { networkInterfacesModule } from './network-interfaces.js';
import { prefixListsModule } from './prefix-lists.js';
import { regionsModule } from './regions.js';
import { routeTablesModule } from './route-tables.js';
import { securityGroupsModule } from './security-groups.js';
import { subnetsModule } from './subnets.js';
import { tagsModule } from './tags.js';
import { vpcsModule } from './vpcs.js';
import { snapshotsModule } from './snapshots.js';
import { imageRegistrationModule } from './image-registration.js';
import { volumesModule } from './volumes.js';
import { classicLinkModule } from './classic-link.js';
import { transitGatewaysModule } from './transit-gateways.js';
import { transitGatewayAttachmentsModule } from './transit-gateway-attachments.js';
import { transitGatewayRouteTablesModule } from './transit-gateway-route-tables.js';
import { transitGatewayRoutesModule } from './transit-gateway-routes.js';
import { transitGatewayPeeringModule } from './transit-gateway-peering.js';

import { vpcEndpointsModule } from './vpc-endpoints.js';
import { vpcEndpointServicesModule } from './vpc-endpoint-services.js';
import { carrierGatewaysModule } from './carrier-gateways.js';
import { customerGatewaysModule } from './customer-gateways.js';
import { vpnGatewaysModule } from './vpn-gateways.js';
import { vpnConnectionsModule } from './vpn-connections.js';
import { networkInterfaceLifecycleModule } from './network-interface-lifecycle.js';
import { networkInterfaceAddressesModule } from './network-interface-addresses.js';
import { networkInterfacePermissionsModule } from './network-interface-permissions.js';

import { ebsEncryptionModule } from './ebs-encryption.js';
import { instanceMetadataDefaultsModule } from './instance-metadata-defaults.js';
import { monitoringModule } from './monitoring.js';
import { placementGroupsModule } from './placement-groups.js';
import { dedicatedHostsModule } from './dedicated-hosts.js';
import { instancePlacementModule } from './instance-placement.js';
import { capacityReservationsModule } from './capacity-reservations.js';
import { instanceProfilesModule } from './instance-profiles.js';

import { dhcpOptionsModule } from './dhcp-options.js';
import { vpcCidrBlocksModule } from './vpc-cidr-blocks.js';
import { subnetCidrBlocksModule } from './subnet-cidr-blocks.js';
import { subnetCidrReservationsModule } from './subnet-cidr-reservations.js';
import { egressOnlyInternetGatewaysModule } from './egress-only-internet-gateways.js';
import { natGatewaysModule } from './nat-gateways.js';
import { vpcPeeringConnectionsModule } from './vpc-peering-connections.js';

export const ec2Modules: readonly ApiModule[] = [
  regionsModule,
  tagsModule,
  keyPairsModule,
  imagesModule,
  instanceTypesModule,
  securityGroupsModule,
  vpcsModule,
  subnetsModule,
  internetGatewaysModule,
  routeTablesModule,
  networkAclsModule,
  addressesModule,
  instancesModule,
  networkInterfacesModule,
  flowLogsModule,
  prefixListsModule,
  volumesModule,
  snapshotsModule,
  imageRegistrationModule,
  launchTemplatesModule,
  transitGatewaysModule,
  transitGatewayAttachmentsModule,
  transitGatewayRouteTablesModule,
  transitGatewayRoutesModule,
  transitGatewayPeeringModule,
  vpcEndpointsModule,
  vpcEndpointServicesModule,
  carrierGatewaysModule,
  customerGatewaysModule,
  vpnGatewaysModule,
  vpnConnectionsModule,
  networkInterfaceLifecycleModule,
  networkInterfaceAddressesModule,
  networkInterfacePermissionsModule,
  ebsEncryptionModule,
  instanceMetadataDefaultsModule,
  monitoringModule,
  placementGroupsModule,
  dedicatedHostsModule,
  instancePlacementModule,
  capacityReservationsModule,
  instanceProfilesModule,
  dhcpOptionsModule,
  vpcCidrBlocksModule,
  subnetCidrBlocksModule,
  subnetCidrReservationsModule,
  egressOnlyInternetGatewaysModule,
  natGatewaysModule,
  vpcPeeringConnectionsModule,
  classicLinkModule,
];
