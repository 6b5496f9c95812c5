/*
 * Peios-only constants of the peimm ABI: the values Linux has no name for. Linux constants
 * come from the system headers (<sys/mman.h>, <linux/mman.h>); nothing here redefines one.
 * Values are stable: tests and programs outside this repository compile against them.
 */
#ifndef PEIMM_ABI_H
#define PEIMM_ABI_H

/* prctl options for the dynamic-code policy (SPEC §4). Chosen outside Linux's prctl range,
 * which today ends below 100; 0x5045 is "PE". arg2: 1 = allow W+X (opt in), 0 = W^X on. */
#define PR_SET_DYNAMIC_CODE_POLICY	0x50450001
#define PR_GET_DYNAMIC_CODE_POLICY	0x50450002

/* Peios system calls (pkm numbering). */
#define PM_SYS_kacs_open_self_token	1000
#define PM_SYS_kacs_open_process_token	1001
#define PM_SYS_kacs_open_thread_token	1002
#define PM_SYS_kacs_set_psb		1005
#define PM_SYS_kacs_impersonate_peer	1011
#define PM_SYS_kacs_revert		1012
#define PM_SYS_kacs_get_sd		1021
#define PM_SYS_kacs_set_sd		1022
#define PM_SYS_kacs_access_check	1023

/* kacs_get_sd(dirfd, path, flags, buf, len) and kacs_set_sd(dirfd, path, flags, sddl):
 * with path "" and flags AT_EMPTY_PATH, dirfd is a pidfd and the object is that process's
 * security descriptor. peimm passes descriptors as SDDL strings. get copies the SDDL with
 * its NUL into buf and returns its length including the NUL (-ERANGE, nothing copied, when
 * len is too small); it needs READ_CONTROL. set replaces the parts the SDDL names: the DACL
 * needs WRITE_DAC, the owner or group WRITE_OWNER, the SACL ACCESS_SYSTEM_SECURITY
 * (SeSecurityPrivilege); malformed SDDL is EINVAL. Denials are EACCES. */
#define PM_AT_EMPTY_PATH	0x1000

/* Linux system calls that older system headers may lack. */
#ifndef SYS_mseal
#define PM_SYS_mseal			462
#endif

/* Process access rights (object-specific bits; SPEC §7, digest §4.1). */
#define PROCESS_TERMINATE			0x0001
#define PROCESS_CREATE_THREAD			0x0002
#define PROCESS_SIGNAL				0x0002	/* Peios's name for the bit: ignore-by-default signals */
#define PROCESS_SET_SESSIONID			0x0004
#define PROCESS_VM_OPERATION			0x0008
#define PROCESS_VM_READ				0x0010
#define PROCESS_VM_WRITE			0x0020
#define PROCESS_DUP_HANDLE			0x0040
#define PROCESS_CREATE_PROCESS			0x0080
#define PROCESS_SET_QUOTA			0x0100
#define PROCESS_SET_INFORMATION			0x0200
#define PROCESS_QUERY_INFORMATION		0x0400
#define PROCESS_SUSPEND_RESUME			0x0800
#define PROCESS_QUERY_LIMITED_INFORMATION	0x1000

/* PIP types and the bounds of trust (digest §4.8). */
#define PM_PIP_NONE		0
#define PM_PIP_PROTECTED	512
#define PM_PIP_ISOLATED		1024
#define PM_PIP_TRUST_MAX	8192

/* Privilege LUID bit numbers (SPEC §12). */
#define PM_SE_LOCK_MEMORY_PRIVILEGE		4
#define PM_SE_INCREASE_QUOTA_PRIVILEGE		5
#define PM_SE_TCB_PRIVILEGE			7
#define PM_SE_INCREASE_BASE_PRIORITY_PRIVILEGE	14
#define PM_SE_DEBUG_PRIVILEGE			20
#define PM_SE_IMPERSONATE_PRIVILEGE		29

/* Integrity levels (mandatory-label RIDs). */
#define PM_IL_UNTRUSTED	0x0000
#define PM_IL_LOW	0x1000
#define PM_IL_MEDIUM	0x2000
#define PM_IL_HIGH	0x3000
#define PM_IL_SYSTEM	0x4000

/* The registry key that holds the memory knobs (SPEC §11). */
#define PM_REG_MEMORY	"Machine\\System\\Memory\\"

#endif
