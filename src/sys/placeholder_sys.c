/* Placeholder: the sys layer is being written. */
typedef int pm_sys_placeholder;
