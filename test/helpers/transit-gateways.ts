/** What the transit gateway tests share: a gateway, a VPC with subnets and an attachment, each waited for until it settles. */
import * as EC2 from '@aws-sdk/client-ec2';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds for what it returns (bounded); the last value read. */
export async function settle<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 200 && !done(v); i++) {
    await sleep(10);
    v = await read();
  }
  if (!done(v)) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
  return v;
}

export async function describeTgw(c: EC2.EC2Client, id: string): Promise<EC2.TransitGateway> {
  const out = await c.send(new EC2.DescribeTransitGatewaysCommand({ TransitGatewayIds: [id] }));
  return out.TransitGateways![0]!;
}

export async function describeAttachment(c: EC2.EC2Client, id: string): Promise<EC2.TransitGatewayAttachment> {
  const out = await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [id] }));
  return out.TransitGatewayAttachments![0]!;
}

/** A transit gateway, once available. */
export async function availableTgw(c: EC2.EC2Client, input: EC2.CreateTransitGatewayRequest = {}): Promise<EC2.TransitGateway> {
  const created = (await c.send(new EC2.CreateTransitGatewayCommand(input))).TransitGateway!;
  return settle('the transit gateway', () => describeTgw(c, created.TransitGatewayId!), (g) => g.State === 'available');
}

/** A VPC with one subnet in each of the zones given (10.x.<i>.0/24). */
export async function vpcWithSubnets(c: EC2.EC2Client, second: number, zones: readonly string[]): Promise<{ vpcId: string; subnetIds: string[] }> {
  const vpcId = (await c.send(new EC2.CreateVpcCommand({ CidrBlock: `10.${second}.0.0/16` }))).Vpc!.VpcId!;
  const subnetIds: string[] = [];
  for (const [i, zone] of zones.entries()) {
    subnetIds.push((await c.send(new EC2.CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.${second}.${i}.0/24`, AvailabilityZone: zone }))).Subnet!.SubnetId!);
  }
  return { vpcId, subnetIds };
}

/** A VPC attachment, once available (and its default association settled). */
export async function availableAttachment(c: EC2.EC2Client, tgwId: string, vpcId: string, subnetIds: string[]): Promise<EC2.TransitGatewayAttachment> {
  const created = (await c.send(new EC2.CreateTransitGatewayVpcAttachmentCommand({ TransitGatewayId: tgwId, VpcId: vpcId, SubnetIds: subnetIds }))).TransitGatewayVpcAttachment!;
  return settle(
    'the attachment',
    () => describeAttachment(c, created.TransitGatewayAttachmentId!),
    (a) => a.State === 'available' && (a.Association === undefined || a.Association.State === 'associated'),
  );
}
