/* Placeholder: the proc layer is being written. */
typedef int pm_proc_placeholder;
