/**
 * The end-of-run checks of a reproducer (emit-c.ts): what shows each kind of finding from user
 * space (the errno, leaked bytes, a DMA probe with the PL330, ownership, VmLck). Split from
 * emit-c.ts (pure move).
 */
import type { Type1Iommu } from '../../kernel-model/vfio/type1.js';
import { Harness, type Finding, type StepRecord } from './harness.js';
import { VFIO_REQS, type Call } from './program.js';
import { cstr, hex } from './emit-c-calls.js';
import type { CheckKind } from './emit-c.js';

const PAGE = 4096;

/** the check after the faulting call: check_finding(rc) returns the child's exit status and prints the evidence */
export function checkHelpers(check: CheckKind, h: Harness, calls: readonly Call[], finding: Finding | null, transcript: readonly StepRecord[]): string {
  const L: string[] = [];
  const last = calls[calls.length - 1];
  const sig = finding?.sig ?? 'none';
  L.push(`/* how the finding shows: ${check} */`);
  switch (check) {
    case 'oops':
      L.push('/* reaching this means the call returned: no Oops */');
      L.push('UNUSED static int check_finding(long rc)\n{\n\t(void)rc;\n\tprintf("the call returned: no kernel Oops\\n");\n\treturn 0;\n}');
      break;
    case 'region-info': {
      // the device's real regions: index, size and file offset as the profile's ABI encodes it
      const regs = h.regions.map((r, i) => `{ ${hex(r.size)}ULL, ${hex(BigInt(h.offset({ region: i, off: 0 })))}ULL }`);
      L.push(`/* the regions the device has (size, file offset): ${h.regions.length} */`);
      L.push(`static const struct { uint64_t size, offset; } regions[] = { ${regs.join(', ') || '{ 0, 0 }'} };`);
      L.push(`#define NREGIONS ${h.regions.length}`);
      L.push('/* a GET_REGION_INFO that succeeds must describe a real region (index < num_regions, its size and offset) */');
      L.push('static int check_finding(long rc)\n{\n\tstruct vfio_region_info *s = (void *)scratch;\n\tchar b[80];\n\tint ok;');
      L.push('\tif (rc != 0) { printf("GET_REGION_INFO failed: nothing leaked\\n"); return 0; }');
      L.push('\tok = s->index < NREGIONS && regions[s->index].size == s->size && regions[s->index].offset == s->offset && (s->flags & ~7u) == 0;');
      L.push('\tif (ok) { printf("GET_REGION_INFO(index %u) describes a real region\\n", s->index); return 0; }');
      L.push('\thexdump((const uint8_t *)s, 32, b);');
      L.push('\tprintf("leak: GET_REGION_INFO(index %u) succeeded with a region the device does not have (the device has %d): flags 0x%x size 0x%llx offset 0x%llx; bytes %s\\n", s->index, NREGIONS, s->flags, (unsigned long long)s->size, (unsigned long long)s->offset, b);');
      L.push('\treturn 1;\n}');
      break;
    }
    case 'read-oracle': {
      if (!last || last.op !== 'pread' || 'raw' in last.off) {
        L.push('static int check_finding(long rc)\n{\n\t(void)rc;\n\tprintf("the faulting call is not a read of a device region: cannot compare\\n");\n\treturn 3;\n}');
        break;
      }
      const reg = h.regions[last.off.region];
      const pos = h.offset(last.off);
      const mapOff = h.offset({ region: last.off.region, off: 0 });
      const pa = reg ? reg.addr + last.off.off : 0;
      L.push('/* a read of the device fd must return what the registers hold: compared with the registers as the');
      L.push(' * mmap of the same region shows them (32-bit loads: the PL330 decodes only word accesses) */');
      L.push('static int check_finding(long rc)\n{\n\tchar got[2 * 4096 + 1], want[2 * 4096 + 1];\n\tuint8_t w[4096];\n\tvolatile uint32_t *regs;\n\tlong k;');
      L.push(`\tif (rc <= 0) { printf("the read failed: nothing to compare\\n"); return 0; }`);
      L.push(`\tregs = mmap(NULL, ${hex(reg?.size ?? PAGE)}, PROT_READ, MAP_SHARED, fd_of(K_DEVICE, ${'k' in last.fd ? last.fd.i >>> 0 : 0}u), (off_t)${hex(BigInt.asUintN(64, BigInt(mapOff)))}ULL);`);
      L.push('\tif (regs == MAP_FAILED) { printf("cannot mmap the region to compare: %s\\n", strerror(errno)); return 3; }');
      L.push(`\tfor (k = 0; k < rc; k++) { unsigned o = ${last.off.off >>> 0}u + k; w[k] = (uint8_t)(regs[o / 4] >> (8 * (o % 4))); }`);
      L.push('\thexdump((const uint8_t *)scratch, rc, got);\n\thexdump(w, rc, want);');
      L.push(`\tif (strcmp(got, want) == 0) { printf("the read returned what the registers hold\\n"); return 0; }`);
      L.push(`\tprintf("mismatch: read of %ld bytes at offset ${hex(pos)} returned %s, but the register at physical ${hex(pa)} holds %s\\n", rc, got, want);`);
      L.push('\treturn 1;\n}');
      break;
    }
    case 'errno': {
      const n = Number(sig.split(':').pop());
      L.push(`/* ${sig.replace(/\*\//g, '')}: the call returns errno ${n}, which is not a valid error for it */`);
      L.push(`static int check_finding(long rc)\n{\n\tif (rc == -${n}) { printf("the call returned errno ${n} (%s), not a valid error for it\\n", strerror(${n})); return 1; }`);
      L.push(`\tprintf("the call returned %ld, not errno ${n}\\n", rc);\n\treturn 0;\n}`);
      break;
    }
    case 'return': {
      let cond = '0';
      let what = 'an impossible value';
      if (last && (last.op === 'pread' || last.op === 'pwrite')) {
        cond = `rc > ${last.count >>> 0}`;
        what = `more than the ${last.count >>> 0} bytes asked for`;
      } else if (last && last.op === 'mmap') {
        cond = 'rc >= 0 && ((unsigned long)rc % PAGE != 0 || (unsigned long)rc >= 0xbf000000ul)';
        what = 'an address that is not a page-aligned user address';
      }
      L.push(`static int check_finding(long rc)\n{\n\tif (${cond}) { printf("the call returned %ld: ${what}\\n", rc); return 1; }`);
      L.push('\tprintf("the call returned %ld\\n", rc);\n\treturn 0;\n}');
      break;
    }
    case 'dma-probe':
      L.push(dmaProbe(h, finding!, calls));
      break;
    case 'ownership':
      L.push(ownershipCheck(h));
      break;
    case 'locked-vm':
      L.push(lockedVmCheck(finding!));
      break;
    case 'unchecked': {
      const want = transcript[calls.length - 1]?.ret ?? '';
      if (finding) {
        L.push(`/* ${sig.replace(/\*\//g, '')} is an invariant of the model a user program cannot observe (the kernel's`);
        L.push(' * counters, page tables or the reference model): the program shows the calls run as in the model */');
      } else L.push('/* the model finds nothing in this program: it shows the calls and their results only */');
      L.push(`static int check_finding(long rc)\n{\n\tprintf("last call returned %ld (model: %s)\\n", rc, ${cstr(want)});\n\treturn 3;\n}`);
      break;
    }
  }
  return L.join('\n') + '\n';
}

/**
 * The ownership finding (harness.ts: a group a user space container holds has a device bound to
 * a host driver): for each device the harness binds to VFIO, the sysfs `driver` link names the
 * driver it is bound to and the `iommu_group` link its group (/dev/vfio/N); the group fds the
 * program holds for that group say with VFIO_GROUP_GET_STATUS whether a container holds it
 * (VFIO_GROUP_FLAGS_CONTAINER_SET). A device bound to a driver other than the VFIO one while a
 * container holds its group reproduces it. Only what a user program can see is used: on a real
 * board the links and the ioctl are the same.
 */
function ownershipCheck(h: Harness): string {
  const devs = h.devices.map((d) => {
    const bus = h.sys.kernel.driverCore.findDeviceOnAnyBus(d.name)?.bus.name ?? 'platform';
    return `{ ${cstr(bus)}, ${cstr(d.name)}, ${cstr(bus === 'amba' ? 'vfio-amba' : 'vfio-platform')} }`;
  });
  return String.raw`/* a group a user space container holds must have no device bound to a host driver (3.14
 * vfio_dev_viable and the group notifier; mainline iommu_device_use_default_domain): each device's
 * sysfs driver and iommu_group links, and VFIO_GROUP_GET_STATUS on the program's fds of that group */
static const struct { const char *bus, *dev, *vfio; } devs[] = { ${devs.join(', ')} };
#define NDEVS ${devs.length}

/* 1: a container holds group g (an fd of it says CONTAINER_SET), 0: not, -1: the program has no fd of it */
static int group_held(int g, unsigned *flags)
{
	struct vfio_group_status st;
	int k, seen = -1;
	for (k = 0; k < ntfd; k++) {
		if (tkind[k] != K_GROUP || tgrp[k] != g) continue;
		memset(&st, 0, sizeof st);
		st.argsz = sizeof st;
		if (ioctl(tfd[k], VFIO_GROUP_GET_STATUS, &st) != 0) continue;
		*flags = st.flags;
		if (st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) return 1;
		seen = 0;
	}
	return seen;
}

static int check_finding(long rc)
{
	char drv[256], grp[64];
	unsigned flags = 0;
	int i, held;
	(void)rc;
	for (i = 0; i < NDEVS; i++) {
		if (sysfs_link(devs[i].bus, devs[i].dev, "driver", drv, sizeof drv) != 0) { printf("%s: not bound to a driver\n", devs[i].dev); continue; }
		if (sysfs_link(devs[i].bus, devs[i].dev, "iommu_group", grp, sizeof grp) != 0) { printf("%s: bound to %s, in no IOMMU group\n", devs[i].dev, drv); continue; }
		held = group_held(atoi(grp), &flags);
		printf("%s: bound to %s, IOMMU group %s: %s\n", devs[i].dev, drv, grp, held < 0 ? "the program has no fd of it" : held ? "a container holds it" : "no container holds it");
		if (held == 1 && strcmp(drv, devs[i].vfio) != 0) {
			printf("ownership: group %s is in a user space container (GET_STATUS flags 0x%x) and its device %s is bound to the host driver %s\n", grp, flags, devs[i].dev, drv);
			return 1;
		}
	}
	printf("no group a container holds has a device bound to a host driver\n");
	return 0;
}`;
}

/**
 * locked-vm / leak-locked-vm: the process's locked_vm as /proc/self/status shows it (VmLck,
 * fs/proc/array.c task_mem: locked_vm << (PAGE_SHIFT - 10) kB, an unsigned long, so a counter
 * below zero prints wrapped), read in the process of the slot the harness names, against what
 * the model says its live mappings lock (the harness's message: "the live mappings account N";
 * 0 for a leak, read after every process closed its fds and unmapped its mappings).
 */
function lockedVmCheck(finding: Finding): string {
  const leak = finding.sig === 'leak-locked-vm';
  const want = leak ? 0 : Number(/the live mappings account (-?\d+)/.exec(finding.message)?.[1] ?? 0);
  return String.raw`#define WANT_PAGES (${want}L) /* the pages the model says the process's live mappings lock */
/* VmLck from /proc/self/status, in kB; 0 or -1 */
static int vmlck(unsigned long *kb)
{
	char b[4096], *p;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0) return -1;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0) return -1;
	b[n] = 0;
	p = strstr(b, "\nVmLck:");
	if (!p) return -1;
	*kb = strtoul(p + 7, NULL, 10);
	return 0;
}

static int check_finding(long rc)
{
	unsigned long kb, want = (unsigned long)WANT_PAGES << 2;
	(void)rc;
	if (vmlck(&kb) != 0) { printf("cannot read VmLck from /proc/self/status\n"); return 3; }
	if (kb == want) { printf("P%d: VmLck %lu kB, what its live DMA mappings lock\n", my_slot, kb); return 0; }
	printf("locked_vm: P%d's VmLck is %lu kB${leak ? ' after every process closed its fds and unmapped its mappings' : ''}, but its live DMA mappings lock %lu kB\n", my_slot, kb, want);
	return 1;
}`;
}

/**
 * The IOVA and the access a DMA finding's message names, for the probe: the harness's
 * messages (tools/fuzz/harness.ts, the isolation check) say "reaches iova X -> PA (read/write)"
 * (a writable entry where nothing is mapped: probe a write, which a read-only entry would
 * fault), "can write iova X", "can read iova X", "iova X is mapped (write) but ..." (probe the
 * access the mapping grants), "iova X translates to ..." (dma-wrong-page: a read); older
 * finding files "stream S write at iova X". null when the message names no IOVA.
 */
export function dmaTarget(message: string): { write: boolean; iova: number } | null {
  const old = /(read|write) at iova 0x([0-9a-f]+)/.exec(message);
  if (old) return { write: old[1] === 'write', iova: parseInt(old[2]!, 16) };
  const m = /iova 0x([0-9a-f]+)/.exec(message);
  if (!m) return null;
  const write = /reaches iova 0x[0-9a-f]+ -> 0x[0-9a-f]+ \(read\/write\)|can write iova|is mapped \(write\)/.test(message);
  return { write, iova: parseInt(m[1]!, 16) };
}

/**
 * The DMA findings: the PL330 (driven through the mmap'd registers and its debug instruction
 * interface, as guest-tests/c/pl330-vfio-test.c does) copies one word from or to the IOVA the
 * harness's SMMU check named. A completed transfer shows that the device reached it (dma-unmapped,
 * dma-readable-without-read-flag, dma-wrong-page when the word is not where the mapping's page is),
 * a fault shows dma-missing. The probe's own program and buffer are a page mapped READ|WRITE at an
 * IOVA no mapping of the program uses.
 */
function dmaProbe(h: Harness, finding: Finding, calls: readonly Call[]): string {
  const L: string[] = [];
  const t = dmaTarget(finding.message);
  const write = t?.write ?? false;
  const x = t?.iova ?? 0;
  // the mappings after the program (type1's list, in the harness): the probe's page goes above them
  let top = 0x100000;
  let userOf: string | null = null;
  for (const c of h.sys.vfio.containerStates()) {
    if (c.iommu !== 'vfio-iommu-type1' || !c.data) continue;
    for (const d of (c.data as Type1Iommu).dmas) top = Math.max(top, d.iova + d.size);
  }
  // where the word at x is in this process (the MAP_DMA of the program that covers x, by its dma-area vaddr)
  for (const c of calls) {
    if (c.op !== 'ioctl' || c.req !== VFIO_REQS.VFIO_IOMMU_MAP_DMA || c.arg.t !== 'struct') continue;
    const f = c.arg.fields;
    const iova = typeof f['iova'] === 'number' || typeof f['iova'] === 'string' ? Number(BigInt(f['iova'])) : NaN;
    const size = typeof f['size'] === 'number' || typeof f['size'] === 'string' ? Number(BigInt(f['size'])) : NaN;
    const va = f['vaddr'];
    if (x >= iova && x < iova + size && va !== undefined && typeof va === 'object' && 'dma' in va) userOf = `dma_area + ${va.dma} * PAGE + ${hex(x - iova)}`;
  }
  const probe = Math.ceil((top + 0x100000) / 0x100000) * 0x100000;
  const r0 = h.regions[0] ?? { addr: 0, size: PAGE };
  const regOff = h.offset({ region: 0, off: 0 });
  const want = finding.sig === 'dma-missing' ? 'fault' : finding.sig === 'dma-wrong-page' || finding.sig === 'dma-stale-page' ? 'elsewhere' : 'complete';
  L.push(`#define PROBE_IOVA ${hex(probe)}u /* above every mapping of the program */`);
  L.push(`#define X_IOVA ${hex(x)}u /* the IOVA the model's SMMU check named (${write ? 'write' : 'read'}) */`);
  L.push('#define PATTERN 0x5ca1ab1eu');
  L.push('/* PL330 registers (ARM DDI 0424D, 3.3) */');
  L.push('#define DSR 0x000\n#define FSRC 0x034\n#define FTR(n) (0x040 + 4 * (n))\n#define CSR(n) (0x100 + 8 * (n))\n#define DBGSTATUS 0xd00\n#define DBGCMD 0xd04\n#define DBGINST0 0xd08\n#define DBGINST1 0xd0c');
  L.push('static int check_finding(long rc)\n{');
  L.push('\tvolatile uint32_t *regs;\n\tuint8_t *pg, *p;\n\tuint32_t ccr, state = 1, got = 0;\n\tint i, mapped = 0;');
  L.push(`\tvolatile uint32_t *xu = ${userOf ? `(volatile uint32_t *)(${userOf})` : 'NULL'}; /* the word at X_IOVA in this process, when a mapping of the program covers it */`);
  L.push('\t(void)rc;');
  L.push(`\tregs = mmap(NULL, ${hex(r0.size)}, PROT_READ | PROT_WRITE, MAP_SHARED, fd_of(K_DEVICE, 0), (off_t)${hex(BigInt.asUintN(64, BigInt(regOff)))}ULL);`);
  L.push('\tif (regs == MAP_FAILED) { printf("DMA probe: cannot mmap the device registers: %s\\n", strerror(errno)); return 3; }');
  L.push('\tpg = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);');
  L.push('\tfor (i = 0; i < ntfd && !mapped; i++) {');
  // the PL330 fetches its program through the SMMU as an instruction access: the 2014 arm-smmu
  // maps XN unless IOMMU_EXEC (arm_smmu_alloc_init_pte; capability iommuExecSemantics)
  const probeFlags = h.sys.profile.caps.iommuExecSemantics === 'exec-flag' && h.sys.profile.caps.dmaMapBit2 === 'exec' ? ' | VFIO_DMA_MAP_FLAG_EXEC' : '';
  L.push(`\t\tstruct vfio_iommu_type1_dma_map mp = { sizeof mp, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE${probeFlags}, (uintptr_t)pg, PROBE_IOVA, PAGE };`);
  L.push('\t\tif (tkind[i] == K_CONTAINER && ioctl(tfd[i], VFIO_IOMMU_MAP_DMA, &mp) == 0) mapped = 1;\n\t}');
  L.push('\tif (!mapped) { printf("DMA probe: cannot map the probe page: %s\\n", strerror(errno)); return 3; }');
  L.push('\t/* the channel program: CCR (one 4-byte beat, incrementing, non-secure), SAR, DAR, LD, RMB, ST, WMB, END */');
  L.push('\tccr = 1 | (2 << 1) | (2 << 8) | (1 << 14) | (2 << 15) | (2 << 22);');
  L.push('\tp = pg;');
  L.push('#define MOV(rd, v) do { uint32_t v_ = (v); *p++ = 0xbc; *p++ = (rd); memcpy(p, &v_, 4); p += 4; } while (0)');
  if (write) {
    L.push('\t/* the device writes PATTERN (from the probe page) to X_IOVA */');
    L.push('\t*(uint32_t *)(pg + 0x800) = PATTERN; /* the word at X_IOVA is left alone: a store would break copy-on-write of the pinned page */');
    L.push('\tMOV(1, ccr); MOV(0, PROBE_IOVA + 0x800); MOV(2, X_IOVA);');
  } else {
    L.push('\t/* the device reads X_IOVA into the probe page */');
    L.push('\t*(uint32_t *)(pg + 0x800) = 0;\n\tif (xu) *xu = PATTERN;');
    L.push('\tMOV(1, ccr); MOV(0, X_IOVA); MOV(2, PROBE_IOVA + 0x800);');
  }
  L.push('\t*p++ = 0x04; *p++ = 0x12; *p++ = 0x08; *p++ = 0x13; *p++ = 0x00;');
  L.push('\t/* DMAGO channel 0 at PROBE_IOVA, through the manager thread\'s debug instruction registers */');
  L.push('\tfor (i = 0; i < 100000 && (regs[DBGSTATUS / 4] & 1); i++)\n\t\t;');
  L.push('\tif (regs[DBGSTATUS / 4] & 1) { printf("DMA probe: the debug interface stays busy\\n"); return 3; }');
  L.push('\tregs[DBGINST0 / 4] = ((uint32_t)(0xa0 | 2) << 16) | (0u << 24);');
  L.push('\tregs[DBGINST1 / 4] = PROBE_IOVA;');
  L.push('\tregs[DBGCMD / 4] = 0;');
  L.push('\t/* a 4-byte transfer takes microseconds: look after 1 ms (the channel may not have left "stopped" right after the DBGCMD) */');
  L.push('\t{ struct timespec ms = { 0, 1000000 }; nanosleep(&ms, NULL); }');
  L.push('\tfor (i = 0; i < 1000; i++) {');
  L.push('\t\tstruct timespec ts = { 0, 10000 };');
  L.push('\t\tstate = regs[CSR(0) / 4] & 0xf;');
  L.push('\t\tif (state == 0 || state == 0xe || state == 0xf || (regs[FSRC / 4] & 1)) break;');
  L.push('\t\tnanosleep(&ts, NULL);\n\t}');
  L.push(write ? '\tgot = xu ? *xu : 0;' : '\tgot = *(volatile uint32_t *)(pg + 0x800);');
  L.push('\tif (state == 0xe || state == 0xf || (regs[FSRC / 4] & 1)) {');
  L.push('\t\tprintf("DMA probe: the device\'s %s at iova 0x%x faulted (fault type 0x%x)\\n", ' + (write ? '"write"' : '"read"') + ', X_IOVA, regs[FTR(0) / 4]);');
  L.push(`\t\treturn ${want === 'fault' ? 1 : 0};\n\t}`);
  L.push('\tif (state != 0) { printf("DMA probe: the channel did not stop (state 0x%x)\\n", state); return 3; }');
  if (write) {
    L.push('\tprintf("DMA probe: the device\'s write at iova 0x%x completed without a fault%s\\n", X_IOVA, xu ? (got == PATTERN ? " and landed in the mapped page" : " but not in the mapped page") : "");');
    L.push(`\treturn ${want === 'complete' ? '1' : want === 'elsewhere' ? '(xu && got != PATTERN)' : '0'};`);
  } else {
    L.push('\tprintf("DMA probe: the device\'s read at iova 0x%x completed without a fault%s\\n", X_IOVA, xu ? (got == PATTERN ? " and read the mapped page" : " but did not read the mapped page") : "");');
    L.push(`\treturn ${want === 'complete' ? '1' : want === 'elsewhere' ? '(xu && got != PATTERN)' : '0'};`);
  }
  L.push('}');
  return L.join('\n');
}
