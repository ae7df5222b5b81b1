/**
 * The Debian 12 image's own files, fixed text written over what debootstrap
 * installed: cloud-init's configuration for Overcast, the Ec2 datasource told
 * to use IMDSv2 tokens, sshd's host keys made at boot, the VPC resolver.
 */

/** cloud-init: the Ec2 datasource at 169.254.169.254, in a container whose network the host set up. */
export const CLOUD_CFG = String.raw`#cloud-config
# Overcast: instances are system containers; the host configures the network (no DHCP here).
# Keep datasource_list on one line: ds-identify reads it too.
datasource_list: [ Ec2, None ]
# Our Ec2 datasource (overcast_cloudinit/DataSourceEc2.py) comes before cloud-init's own.
datasource_pkg_list: [ overcast_cloudinit ]
datasource:
  Ec2:
    # No DMI in a container: do not insist on an EC2 platform id.
    strict_id: false
    metadata_urls: [ 'http://169.254.169.254' ]
    timeout: 5
    max_wait: 30
network:
  config: disabled
# C.UTF-8 is built into glibc: nothing to generate at boot (locale: false would skip the module
# too, but fails cloud-init's schema check, a warning at every boot).
locale: C.UTF-8
manage_etc_hosts: true
# The runtime sets the hostname (the instance's private DNS name).
preserve_hostname: true
# The image has no host keys: cloud-init's ssh module makes the Ed25519 and ECDSA ones before
# sshd starts (ssh.service makes an Ed25519 one in case cloud-init did not). The RSA key, whose
# generation takes ~0.3-2 s, is made once sshd answers (overcast-rsa-host-key.service), and sshd
# is reloaded with it: every client since OpenSSH 6.5 takes Ed25519. Nothing to delete.
ssh_deletekeys: false
# OpenSSH 9.2 no longer uses DSA keys.
ssh_genkeytypes: [ecdsa, ed25519]
ssh_pwauth: false
disable_root: true
system_info:
  default_user:
    # as on Debian's own EC2 AMIs
    name: admin
    lock_passwd: true
    gecos: Debian
    groups: [adm, audio, cdrom, dialout, dip, floppy, plugdev, sudo, video]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    shell: /bin/bash
`;

/**
 * The Ec2 datasource as on AWS. cloud-init uses IMDSv2 tokens only when it has
 * identified the platform as AWS, from DMI or /sys/hypervisor/uuid, which a
 * container does not have; Overcast's metadata service is AWS's (tokens required
 * by default), so this subclass says so. It offers no init-local datasource:
 * Ec2Local would bring up DHCP to reach the service, and the host has already
 * configured eth0.
 */
export const OVERCAST_DATASOURCE = String.raw`# Overcast: cloud-init's Ec2 datasource, identified as AWS (IMDSv2 tokens) without DMI.
# Found through datasource_pkg_list in /etc/cloud/cloud.cfg.d/90-overcast.cfg.
from cloudinit import sources
from cloudinit.sources import DataSourceEc2 as ec2


class DataSourceEc2Overcast(ec2.DataSourceEc2):
    """The Ec2 datasource on Overcast: the metadata service speaks IMDSv2, as on AWS."""

    def _get_cloud_name(self):
        return ec2.CloudNames.AWS


# Network stage only: no init-local (DHCP) datasource.
datasources = [
    (DataSourceEc2Overcast, (sources.DEP_FILESYSTEM, sources.DEP_NETWORK)),
]


def get_datasource_list(depends):
    return sources.list_from_depends(depends, datasources)
`;

/** ssh.service: host keys made at start when missing (the image ships none: each instance has its own). */
export const SSH_HOST_KEYS_DROPIN = String.raw`# Overcast: every instance makes its own host keys, at the first start of sshd.
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || exec /usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
ExecStartPre=/usr/sbin/sshd -t
`;

/** The RSA host key, made after sshd answers with its Ed25519 and ECDSA keys (then sshd reloads and offers it too). */
export const RSA_HOST_KEY_UNIT = String.raw`# Overcast: the instance's RSA host key, made once sshd runs (its generation would delay the first login).
[Unit]
Description=RSA host key for sshd, made after sshd started
After=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_rsa_key

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/ssh-keygen -q -t rsa -b 3072 -N "" -f /etc/ssh/ssh_host_rsa_key
ExecStartPost=-/bin/systemctl reload ssh.service

[Install]
WantedBy=multi-user.target
`;

export const SSHD_CONFIG = String.raw`# Overcast: keys (cloud-init installs the key pair's key for admin). Passwords are off in
# 50-cloud-init.conf beside this file, where cloud-init's ssh_pwauth finds the setting: ssh_pwauth:
# true in user data turns them on; the default false finds them off already and does not restart sshd.
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
`;

export const RESOLV_CONF = 'nameserver 169.254.169.253\n';

export const SOURCES_LIST = String.raw`deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
`;

export const HOSTS = String.raw`127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`;

export const FSTAB = String.raw`# Overcast: the root file system is the instance's root volume, mounted by the runtime.
`;

/** journald: a bounded persistent journal. */
export const JOURNALD_CONF = String.raw`# Overcast: a bounded journal in a container.
[Journal]
SystemMaxUse=64M
`;

/**
 * Units that make no sense in a system container: no devices to manage (udev),
 * no terminals (gettys: the console is PID 1's output), the network is the host's
 * doing (networkd, resolved, wait-online), kernel file systems the runtime owns.
 */
export const MASKED_UNITS: readonly string[] = [
  'systemd-udevd.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-udev-trigger.service',
  'systemd-udev-settle.service',
  'systemd-hwdb-update.service',
  'getty.target',
  'getty@tty1.service',
  'console-getty.service',
  'serial-getty@ttyS0.service',
  'systemd-networkd.service',
  'systemd-networkd.socket',
  'systemd-networkd-wait-online.service',
  'systemd-network-generator.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
  'systemd-pstore.service',
  // cloud-init's local stage looks for local datasources only (none: Overcast's Ec2 datasource is a
  // network one, the host configures the network) and would hold sshd back by a Python start-up (~0.8 s)
  'cloud-init-local.service',
  'systemd-modules-load.service',
  'dev-hugepages.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'sys-kernel-config.mount',
  'sys-fs-fuse-connections.mount',
  'proc-sys-fs-binfmt_misc.mount',
  'proc-sys-fs-binfmt_misc.automount',
  'e2scrub_reap.service',
  'e2scrub_all.timer',
  'fstrim.timer',
];
