/* Placeholder: the vma layer is being written. */
typedef int pm_vma_placeholder;
