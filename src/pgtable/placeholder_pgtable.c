/* Placeholder: the pgtable layer is being written. */
typedef int pm_pgtable_placeholder;
