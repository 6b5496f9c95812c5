/* Placeholder: the obj layer is being written. */
typedef int pm_obj_placeholder;
