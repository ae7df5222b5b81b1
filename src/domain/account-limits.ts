/** The account quotas EC2 reports (DescribeAccountAttributes) and Overcast enforces. */
export const ACCOUNT_LIMITS = {
  maxInstances: 1000,
  maxElasticIps: 5,
  maxSecurityGroupsPerInterface: 5,
} as const;
