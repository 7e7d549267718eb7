/*
 * A fake libnvidia-ml for tests: the real NVML ABI (entry points with their version suffixes,
 * nvmlPciInfo_t v3 layout, nvmlReturn_t codes and strings), backed by a text file instead of a
 * GPU. The file is $NVCT_FAKE_NVML_CONFIG, else `fake-nvml.conf` beside this library. Lines:
 *   driver <version>             e.g. driver 550.54.14
 *   cuda <int>                   e.g. cuda 12040 (nvmlSystemGetCudaDriverVersion)
 *   fail <function> <code> [<gpu-ordinal>]
 *                                make <function> return nvmlReturn_t <code> (for that GPU line's
 *                                device and its MIG devices only, when an ordinal is given)
 *   lost <gpu-ordinal>           that GPU fell off the bus: its handle and every call on it answer
 *                                NVML_ERROR_GPU_IS_LOST (15), as real NVML does
 *   gpu <minor> <brand> <ccmaj> <ccmin> <domain> <bus> <device> <uuid> <name...>
 *   mig <gpu-ordinal> <gi> <ci> <uuid>      a MIG device on the gpu-th GPU line (MIG mode on)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
enum { OK = 0, UNINIT = 1, INVALID = 2, NOT_SUPPORTED = 3, NOT_FOUND = 6, INSUFFICIENT = 7, GPU_IS_LOST = 15, UNKNOWN = 999 };

typedef struct {
	char busIdLegacy[16];
	unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
	char busId[32];
} nvmlPciInfo_t;

#define MAX_GPUS 16
#define MAX_MIGS 8
struct dev {
	int is_mig;
	unsigned minor, brand, gi, ci;
	int ccmaj, ccmin;
	unsigned domain, bus, device;
	char uuid[96], name[96];
	struct dev *parent;
	struct dev *migs[MAX_MIGS];
	unsigned nmigs;
	int lost;
};

static struct dev gpus[MAX_GPUS], migs[MAX_GPUS * MAX_MIGS];
static unsigned ngpus, nmigs_total;
static char driver[64] = "0.0";
static int cuda = 0;
static char fail_fn[16][64];
static int fail_rc[16];
static int fail_gpu[16]; /* -1: every device */
static unsigned nfail;
static int initialized;

static void load(void)
{
	char path[4096];
	const char *env = getenv("NVCT_FAKE_NVML_CONFIG");
	if (env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		Dl_info info;
		if (!dladdr((void *)load, &info) || !info.dli_fname) return;
		snprintf(path, sizeof(path), "%s", info.dli_fname);
		char *slash = strrchr(path, '/');
		if (slash) snprintf(slash + 1, sizeof(path) - (slash + 1 - path), "fake-nvml.conf");
	}
	FILE *f = fopen(path, "r");
	if (!f) return;
	char line[512];
	int lost[MAX_GPUS] = {0};
	ngpus = nmigs_total = nfail = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		struct dev *d;
		unsigned g;
		int n;
		if (sscanf(line, "driver %63s", driver) == 1) continue;
		if (sscanf(line, "cuda %d", &cuda) == 1) continue;
		if (nfail < 16 && (n = sscanf(line, "fail %63s %d %d", fail_fn[nfail], &fail_rc[nfail], &fail_gpu[nfail])) >= 2) {
			if (n == 2) fail_gpu[nfail] = -1;
			nfail++;
			continue;
		}
		if (sscanf(line, "lost %u", &g) == 1) {
			if (g < MAX_GPUS) lost[g] = 1;
			continue;
		}
		if (ngpus < MAX_GPUS && strncmp(line, "gpu ", 4) == 0) {
			d = &gpus[ngpus];
			memset(d, 0, sizeof(*d));
			n = 0;
			if (sscanf(line, "gpu %u %u %d %d %x %x %x %95s %n", &d->minor, &d->brand, &d->ccmaj, &d->ccmin,
			           &d->domain, &d->bus, &d->device, d->uuid, &n) == 8 && n > 0) {
				snprintf(d->name, sizeof(d->name), "%s", line + n);
				ngpus++;
			}
			continue;
		}
		if (nmigs_total < MAX_GPUS * MAX_MIGS && strncmp(line, "mig ", 4) == 0) {
			d = &migs[nmigs_total];
			memset(d, 0, sizeof(*d));
			if (sscanf(line, "mig %u %u %u %95s", &g, &d->gi, &d->ci, d->uuid) == 4 && g < ngpus &&
			    gpus[g].nmigs < MAX_MIGS) {
				d->is_mig = 1;
				d->parent = &gpus[g];
				gpus[g].migs[gpus[g].nmigs++] = d;
				nmigs_total++;
			}
		}
	}
	fclose(f);
	for (unsigned i = 0; i < ngpus; i++) gpus[i].lost = lost[i];
}

/* The code `fn` is to return for GPU line `gpu` (-1: a call about no device), or OK. */
static int failing(const char *fn, int gpu)
{
	for (unsigned i = 0; i < nfail; i++)
		if (strcmp(fail_fn[i], fn) == 0 && (fail_gpu[i] < 0 || fail_gpu[i] == gpu)) return fail_rc[i];
	if (gpu >= 0 && (unsigned)gpu < ngpus && gpus[gpu].lost) return GPU_IS_LOST;
	return OK;
}

/* The GPU line of a device handle (a MIG device's: its GPU's), or -1. */
static int ordinal(const struct dev *d)
{
	if (!d) return -1;
	if (d->is_mig) d = d->parent;
	return d >= gpus && d < gpus + ngpus ? (int)(d - gpus) : -1;
}

#define GUARD(fn) do { int rc_ = failing(fn, -1); if (rc_) return rc_; if (!initialized) return UNINIT; } while (0)
#define GUARD_DEV(fn, d) do { int rc_ = failing(fn, ordinal(d)); if (rc_) return rc_; if (!initialized) return UNINIT; } while (0)

static nvmlReturn_t copy(char *dst, unsigned len, const char *src)
{
	if (!dst) return INVALID;
	if (strlen(src) + 1 > len) return INSUFFICIENT;
	strcpy(dst, src);
	return OK;
}

nvmlReturn_t nvmlInit_v2(void)
{
	load();
	int rc = failing("nvmlInit_v2", -1);
	if (rc) return rc;
	initialized++;
	return OK;
}
nvmlReturn_t nvmlInitWithFlags(unsigned flags) { (void)flags; return nvmlInit_v2(); }
nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
nvmlReturn_t nvmlShutdown(void)
{
	if (!initialized) return UNINIT;
	initialized--;
	return OK;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
	switch (r) {
	case 0: return "Success";
	case 1: return "Uninitialized";
	case 2: return "Invalid Argument";
	case 3: return "Not Supported";
	case 4: return "Insufficient Permissions";
	case 5: return "Already Initialized";
	case 6: return "Not Found";
	case 7: return "Insufficient Size";
	case 9: return "Driver Not Loaded";
	case 12: return "NVML Shared Library Not Found";
	case 13: return "Function Not Found";
	case 15: return "GPU is lost";
	case 18: return "RM has detected an NVML/RM version mismatch.";
	default: return "Unknown Error";
	}
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned len) { GUARD("nvmlSystemGetDriverVersion"); return copy(v, len, driver); }
nvmlReturn_t nvmlSystemGetNVMLVersion(char *v, unsigned len) { GUARD("nvmlSystemGetNVMLVersion"); return copy(v, len, driver); }
nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v) { GUARD("nvmlSystemGetCudaDriverVersion"); if (!v) return INVALID; *v = cuda; return OK; }
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) { GUARD("nvmlSystemGetCudaDriverVersion_v2"); if (!v) return INVALID; *v = cuda; return OK; }

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n) { GUARD("nvmlDeviceGetCount_v2"); if (!n) return INVALID; *n = ngpus; return OK; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, struct dev **d)
{
	if (!d || i >= ngpus) { GUARD("nvmlDeviceGetHandleByIndex_v2"); return INVALID; }
	GUARD_DEV("nvmlDeviceGetHandleByIndex_v2", &gpus[i]);
	*d = &gpus[i];
	return OK;
}
nvmlReturn_t nvmlDeviceGetIndex(struct dev *d, unsigned *i)
{
	GUARD_DEV("nvmlDeviceGetIndex", d);
	if (!d || !i || d->is_mig) return INVALID;
	*i = (unsigned)(d - gpus);
	return OK;
}
nvmlReturn_t nvmlDeviceGetMinorNumber(struct dev *d, unsigned *m)
{
	GUARD_DEV("nvmlDeviceGetMinorNumber", d);
	if (!d || !m) return INVALID;
	if (d->is_mig) return NOT_SUPPORTED;
	*m = d->minor;
	return OK;
}
nvmlReturn_t nvmlDeviceGetUUID(struct dev *d, char *u, unsigned len) { GUARD_DEV("nvmlDeviceGetUUID", d); if (!d) return INVALID; return copy(u, len, d->uuid); }
nvmlReturn_t nvmlDeviceGetName(struct dev *d, char *n, unsigned len)
{
	GUARD_DEV("nvmlDeviceGetName", d);
	if (!d) return INVALID;
	return copy(n, len, d->is_mig ? d->parent->name : d->name);
}
nvmlReturn_t nvmlDeviceGetBrand(struct dev *d, unsigned *b) { GUARD_DEV("nvmlDeviceGetBrand", d); if (!d || !b) return INVALID; *b = d->is_mig ? d->parent->brand : d->brand; return OK; }
nvmlReturn_t nvmlDeviceGetPciInfo_v3(struct dev *d, nvmlPciInfo_t *p)
{
	GUARD_DEV("nvmlDeviceGetPciInfo_v3", d);
	if (!d || !p) return INVALID;
	if (d->is_mig) d = d->parent;
	memset(p, 0, sizeof(*p));
	p->domain = d->domain;
	p->bus = d->bus;
	p->device = d->device;
	p->pciDeviceId = 0x233010de;
	snprintf(p->busIdLegacy, sizeof(p->busIdLegacy), "%04x:%02x:%02x.0", d->domain, d->bus, d->device);
	snprintf(p->busId, sizeof(p->busId), "%08x:%02x:%02x.0", d->domain, d->bus, d->device);
	return OK;
}
/* The first, unversioned call, still exported by real NVML (libnvidia-container 1.x calls it):
 * the v1 struct, busId[16] then the same ids, then reserved words. */
typedef struct {
	char busId[16];
	unsigned domain, bus, device, pciDeviceId, pciSubSystemId, reserved[4];
} nvmlPciInfo_v1_t;
nvmlReturn_t nvmlDeviceGetPciInfo(struct dev *d, nvmlPciInfo_v1_t *p)
{
	nvmlPciInfo_t v3;
	nvmlReturn_t r;
	GUARD_DEV("nvmlDeviceGetPciInfo", d);
	if (!p) return INVALID;
	if ((r = nvmlDeviceGetPciInfo_v3(d, &v3)) != OK) return r;
	memset(p, 0, sizeof(*p));
	memcpy(p->busId, v3.busIdLegacy, sizeof(p->busId));
	p->domain = v3.domain;
	p->bus = v3.bus;
	p->device = v3.device;
	p->pciDeviceId = v3.pciDeviceId;
	return OK;
}
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(struct dev *d, int *maj, int *min)
{
	GUARD_DEV("nvmlDeviceGetCudaComputeCapability", d);
	if (!d || !maj || !min) return INVALID;
	if (d->is_mig) d = d->parent;
	*maj = d->ccmaj;
	*min = d->ccmin;
	return OK;
}
nvmlReturn_t nvmlDeviceGetMigMode(struct dev *d, unsigned *cur, unsigned *pend)
{
	GUARD_DEV("nvmlDeviceGetMigMode", d);
	if (!d || !cur || !pend) return INVALID;
	/* As real NVML: MIG mode exists on data-centre GPUs from Ampere on (Tesla, Nvidia brands). */
	if (d->is_mig || d->ccmaj < 8 || (d->brand != 2 && d->brand != 14)) return NOT_SUPPORTED;
	*cur = *pend = d->nmigs > 0;
	return OK;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(struct dev *d, unsigned *n)
{
	GUARD_DEV("nvmlDeviceGetMaxMigDeviceCount", d);
	if (!d || !n) return INVALID;
	*n = d->nmigs > 0 ? MAX_MIGS : 0;
	return OK;
}
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(struct dev *d, unsigned i, struct dev **m)
{
	GUARD_DEV("nvmlDeviceGetMigDeviceHandleByIndex", d);
	if (!d || !m || d->is_mig) return INVALID;
	if (i >= MAX_MIGS) return INVALID;
	if (i >= d->nmigs) return NOT_FOUND;
	*m = d->migs[i];
	return OK;
}
nvmlReturn_t nvmlDeviceIsMigDeviceHandle(struct dev *d, unsigned *is)
{
	GUARD_DEV("nvmlDeviceIsMigDeviceHandle", d);
	if (!d || !is) return INVALID;
	*is = d->is_mig;
	return OK;
}
nvmlReturn_t nvmlDeviceGetGpuInstanceId(struct dev *d, unsigned *id)
{
	GUARD_DEV("nvmlDeviceGetGpuInstanceId", d);
	if (!d || !id || !d->is_mig) return INVALID;
	*id = d->gi;
	return OK;
}
nvmlReturn_t nvmlDeviceGetComputeInstanceId(struct dev *d, unsigned *id)
{
	GUARD_DEV("nvmlDeviceGetComputeInstanceId", d);
	if (!d || !id || !d->is_mig) return INVALID;
	*id = d->ci;
	return OK;
}
nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(struct dev *m, struct dev **d)
{
	GUARD_DEV("nvmlDeviceGetDeviceHandleFromMigDeviceHandle", m);
	if (!m || !d || !m->is_mig) return INVALID;
	*d = m->parent;
	return OK;
}
