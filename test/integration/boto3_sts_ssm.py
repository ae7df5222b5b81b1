"""boto3's STS and SSM clients against Overcast. Prints 'boto3 sts/ssm OK: N checks' on success."""
import sys

import boto3
import botocore.exceptions

endpoint = sys.argv[1]
region = "eu-central-1"
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1


sts = boto3.client("sts", endpoint_url=endpoint, region_name=region)
ident = sts.get_caller_identity()
check(ident["Account"] == "123456789012", "account")
check(ident["Arn"] == "arn:aws:iam::123456789012:root", "root arn")
check(ident["UserId"] == "123456789012", "root user id is the account id")

ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region)
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region)

name = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
p = ssm.get_parameter(Name=name)["Parameter"]
check(p["Name"] == name and p["Type"] == "String" and p["DataType"] == "aws:ec2:image", "parameter shape")
check(p["LastModifiedDate"].year == 2026, "LastModifiedDate parsed as a datetime")
image = ec2.describe_images(ImageIds=[p["Value"]])["Images"][0]
check(image["Name"].startswith("overcast/ubuntu-24.04-amd64-"), "the parameter names the Ubuntu 24.04 image")
res = ec2.run_instances(ImageId=p["Value"], InstanceType="t3.micro", MinCount=1, MaxCount=1)
check(res["Instances"][0]["ImageId"] == p["Value"], "it launches")

got = ssm.get_parameters(Names=[name, "/missing"])
check([x["Name"] for x in got["Parameters"]] == [name] and got["InvalidParameters"] == ["/missing"], "get_parameters")

paginator = ssm.get_paginator("get_parameters_by_path")
names = [x["Name"] for page in paginator.paginate(Path="/aws/service/ami-amazon-linux-latest", PaginationConfig={"PageSize": 2}) for x in page["Parameters"]]
check(len(names) == 11 and len(set(names)) == 11, f"paginated amazon linux names: {names}")

try:
    ssm.get_parameter(Name="/missing")
    raise AssertionError("get_parameter of a missing name should fail")
except ssm.exceptions.ParameterNotFound as e:
    check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "ParameterNotFound is a modeled exception, 400")

bad = boto3.client("sts", endpoint_url=endpoint, region_name=region, aws_access_key_id="AKIAOVERCASTDEFAULT1", aws_secret_access_key="wrong")
try:
    bad.get_caller_identity()
    raise AssertionError("a bad signature should fail")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "SignatureDoesNotMatch" and e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, "bad signature on sts")

print(f"boto3 sts/ssm OK: {checks} checks")
