/* Placeholder: the kacs layer is being written. */
typedef int pm_kacs_placeholder;
