/** Times as EC2 reports launch, attach and create times: ISO-8601 at whole seconds. */
export function ec2Time(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
}
