/* Placeholder: the mm layer is being written. */
typedef int pm_mm_placeholder;
