"""A scripted boto3 session against Overcast. Prints 'boto3 session OK: N checks' on success."""
import base64
import os
import sys

import boto3
import botocore.exceptions

endpoint = sys.argv[1]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="ap-northeast-2")
checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1


def error_code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{fn.__name__} should have failed")


zones = ec2.describe_availability_zones()["AvailabilityZones"]
check([z["ZoneName"] for z in zones] == ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d"], "Seoul zones")

types = ec2.describe_instance_types(InstanceTypes=["m5.large"])["InstanceTypes"]
check(types[0]["VCpuInfo"]["DefaultVCpus"] == 2 and types[0]["MemoryInfo"]["SizeInMiB"] == 8192, "m5.large specs")
check(error_code(ec2.describe_instance_types, InstanceTypes=["m5.huge"])[0] == "InvalidInstanceType", "unknown type")

# paginators walk NextToken
paginator = ec2.get_paginator("describe_instance_types")
names = [t["InstanceType"] for page in paginator.paginate(PaginationConfig={"PageSize": 20}) for t in page["InstanceTypes"]]
check(len(names) >= 60 and len(names) == len(set(names)), f"paginated instance types: {len(names)}")

key = ec2.create_key_pair(KeyName="boto-key", KeyType="ed25519")
check(key["KeyMaterial"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----"), "ed25519 key material")
check(error_code(ec2.describe_key_pairs, KeyNames=["nope"])[0] == "InvalidKeyPair.NotFound", "missing key")

vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]
check(error_code(ec2.create_vpc, CidrBlock="10.0.0.0/8")[0] in ("InvalidVpc.Range", "InvalidParameterValue"), "bad VPC CIDR")
subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.30.0.0/24", AvailabilityZone="ap-northeast-2c")["Subnet"]
check(subnet["AvailableIpAddressCount"] == 251, "251 usable addresses in a /24")
sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc["VpcId"])
ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
check(error_code(ec2.authorize_security_group_ingress, GroupId=sg["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])[0] == "InvalidPermission.Duplicate", "duplicate rule")

image = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["arm64"]}])["Images"][0]
user_data = "#!/bin/sh\necho hello from boto3\n"
res = ec2.run_instances(ImageId=image["ImageId"], InstanceType="t4g.micro", MinCount=1, MaxCount=1, KeyName="boto-key",
                        SubnetId=subnet["SubnetId"], SecurityGroupIds=[sg["GroupId"]], UserData=user_data,
                        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "boto"}]}])
iid = res["Instances"][0]["InstanceId"]
check(res["Instances"][0]["PrivateIpAddress"].startswith("10.30.0."), "private IP from the subnet")
ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
check(base64.b64decode(attr["UserData"]["Value"]).decode() == user_data, "user data round trip")
check(error_code(ec2.modify_instance_attribute, InstanceId=iid, InstanceType={"Value": "t4g.small"})[0] == "IncorrectInstanceState", "type change while running")
check(error_code(ec2.stop_instances, InstanceIds=[iid], DryRun=True) == ("DryRunOperation", 412), "dry run")
check(error_code(ec2.delete_security_group, GroupId=sg["GroupId"])[0] == "DependencyViolation", "SG in use")

ec2.create_tags(Resources=[iid], Tags=[{"Key": "team", "Value": "blue"}])
found = ec2.describe_instances(Filters=[{"Name": "tag:team", "Values": ["bl*"]}])["Reservations"]
check([i["InstanceId"] for r in found for i in r["Instances"]] == [iid], "tag filter with wildcard")

ec2.terminate_instances(InstanceIds=[iid])
ec2.get_waiter("instance_terminated").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
check(ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated", "terminated still described")
ec2.delete_security_group(GroupId=sg["GroupId"])

# EBS: a volume, attached to an instance and detached, a snapshot of it, a volume from the snapshot (boto3's waiters)
vol = ec2.create_volume(AvailabilityZone="ap-northeast-2c", Size=2, VolumeType="gp3",
                        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "boto-vol"}]}])
ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
check(error_code(ec2.create_volume, AvailabilityZone="ap-northeast-2c", Size=10, VolumeType="io1")[0] == "MissingParameter", "io1 needs iops")
host = ec2.run_instances(ImageId=image["ImageId"], InstanceType="t4g.micro", MinCount=1, MaxCount=1, SubnetId=subnet["SubnetId"])["Instances"][0]["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[host], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
ec2.attach_volume(VolumeId=vol["VolumeId"], InstanceId=host, Device="/dev/sdf")
ec2.get_waiter("volume_in_use").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
check(error_code(ec2.delete_volume, VolumeId=vol["VolumeId"])[0] == "VolumeInUse", "in-use volume not deleted")
snap = ec2.create_snapshot(VolumeId=vol["VolumeId"], Description="boto snap")
ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
ec2.detach_volume(VolumeId=vol["VolumeId"])
ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
copy = ec2.create_volume(AvailabilityZone="ap-northeast-2a", SnapshotId=snap["SnapshotId"])
check(copy["Size"] == 2 and copy["SnapshotId"] == snap["SnapshotId"], "volume from snapshot")
ec2.terminate_instances(InstanceIds=[host])
ec2.delete_volume(VolumeId=vol["VolumeId"])
ec2.get_waiter("volume_deleted").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})

print(f"boto3 session OK: {checks} checks")
