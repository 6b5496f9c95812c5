/* Placeholder: the reclaim layer is being written. */
typedef int pm_reclaim_placeholder;
