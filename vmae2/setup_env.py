"""Registering vmae2's modules and making ``vmae2`` the default scope (the top of the package:
it imports every part that registers something)."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every vmae2 module that registers something, and optionally set the default scope.

    Args:
        init_default_scope: if True, ``vmae2`` becomes the default scope, so configs that do not
            set ``default_scope`` build from vmae2's registries (which reach mmaction2's and
            mmengine's as parents).
    """
    import vmae2.datasets  # noqa: F401
    import vmae2.engine  # noqa: F401
    import vmae2.evaluation  # noqa: F401
    import vmae2.models  # noqa: F401

    if not init_default_scope:
        return
    never_created = (DefaultScope.get_current_instance() is None
                     or not DefaultScope.check_instance_created('vmae2'))
    if never_created:
        DefaultScope.get_instance('vmae2', scope_name='vmae2')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'vmae2':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "vmae2", '
                      '`register_all_modules` will force the current '
                      'default scope to be "vmae2". If this is not '
                      'expected, please set `init_default_scope=False`.')
        # avoid name conflict
        new_instance_name = f'vmae2-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='vmae2')
