/** Every request type → its handler, and who may call it. */
import type { RequestType } from '../../shared/protocol/index.js';
import type { HandlerMap } from './context.js';
import * as accounts from './handlers/accounts.js';
import * as rooms from './handlers/rooms.js';
import * as friends from './handlers/friends.js';
import * as dms from './handlers/dms.js';
import * as privacy from './handlers/privacy.js';
import * as admin from './admin/handlers.js';

export const HANDLERS: HandlerMap = {
  register: accounts.register,
  login: accounts.login,
  resume: accounts.resume,
  logout: accounts.logout,
  changePassword: accounts.changePassword,
  deleteAccount: privacy.deleteAccount,
  listRooms: rooms.listRooms,
  requestAccess: rooms.requestAccess,
  postMessage: rooms.postMessage,
  fetchHistory: rooms.fetchHistory,
  syncRooms: rooms.syncRooms,
  listMembers: rooms.listMembers,
  listFriends: friends.listFriends,
  requestFriend: friends.requestFriend,
  acceptFriend: friends.acceptFriend,
  refuseFriend: friends.refuseFriend,
  removeFriend: friends.removeFriend,
  listAccessRequests: rooms.listAccessRequests,
  approveAccess: rooms.approveAccess,
  denyAccess: rooms.denyAccess,
  forceFriend: friends.forceFriend,
  adminListUsers: admin.adminListUsers,
  adminBan: admin.adminBan,
  adminUnban: admin.adminUnban,
  adminKick: admin.adminKick,
  adminGrant: admin.adminGrant,
  adminRevoke: admin.adminRevoke,
  adminCreateRoom: admin.adminCreateRoom,
  publishKeys: dms.publishKeys,
  fetchKeys: dms.fetchKeys,
  sendSignal: dms.sendSignal,
  relayDm: dms.relayDm,
  ackDms: dms.ackDms,
  resendStoredDms: dms.resendStoredDms,
};

/** Allowed before logging in. */
export const ANONYMOUS_REQUESTS: ReadonlySet<RequestType> = new Set(['register', 'login', 'resume']);

/** Allowed while a one-time password must still be replaced. */
export const PASSWORD_CHANGE_REQUESTS: ReadonlySet<RequestType> = new Set(['changePassword', 'logout']);

export const ADMIN_REQUESTS: ReadonlySet<RequestType> = new Set([
  'listAccessRequests',
  'approveAccess',
  'denyAccess',
  'forceFriend',
  'adminListUsers',
  'adminBan',
  'adminUnban',
  'adminKick',
  'adminGrant',
  'adminRevoke',
  'adminCreateRoom',
]);
