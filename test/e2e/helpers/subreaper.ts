import { arch } from 'node:process'

// A reloaded process outlives its parent, so it is re-parented to the nearest
// "child subreaper", or to PID 1. On a machine whose PID 1 reaps nothing (some
// VMs and containers) every old process would stay a zombie. The tests run the
// app under this tiny init instead: it marks itself a subreaper
// (prctl(PR_SET_CHILD_SUBREAPER)), starts the app, reaps every descendant that
// ends, printing `reaped <pid> code <n>` or `reaped <pid> signal <n>` on stdout,
// and exits once none is left. Perl, because Node cannot call prctl() and
// perl-base is part of every Debian/Ubuntu image.
const prctl: Record<string, number> = { x64: 157, arm64: 167 }

const script = String.raw`
use strict;
$| = 1;
my $nr = shift @ARGV;
syscall($nr, 36, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER): $!\n";
my $child = fork() // die "fork: $!\n";
if ($child == 0) { exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"; }
while ((my $pid = waitpid(-1, 0)) > 0) {
  my $status = $?;
  print(($status & 127) ? "reaped $pid signal " . ($status & 127) . "\n" : "reaped $pid code " . ($status >> 8) . "\n");
}
`

/** `perl` arguments that run `command args…` under the subreaper; null on an architecture we have no prctl number for. */
export function underSubreaper (command: string, args: readonly string[]): string[] | null {
  const nr = prctl[arch]
  return nr === undefined ? null : ['-e', script, String(nr), command, ...args]
}
