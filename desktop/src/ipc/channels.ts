/** IPC channel names: no dependencies, so that the sandboxed preload bundle stays tiny. */
export const IPC_CHANNELS = {
  getServer: 'chandler:get-server',
  chooseServer: 'chandler:choose-server',
  forgetServer: 'chandler:forget-server',
  notify: 'chandler:notify',
  secretGet: 'chandler:secret-get',
  secretSet: 'chandler:secret-set',
  secretDelete: 'chandler:secret-delete',
  exportData: 'chandler:export-data',
  /** main → renderer: the user clicked a notification. */
  notificationClicked: 'chandler:notification-clicked',
} as const;
