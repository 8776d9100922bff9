/** The network's scope names as the faces test them (spelled as in mallnet/scopes.py). */
export const SCOPE = {
  mallAdmin: 'mall:admin',
  mallCampaigns: 'mall:campaigns',
  mallSettlement: 'mall:settlement',
  mallReports: 'mall:reports',
  shopManage: 'shop:manage',
  shopOperate: 'shop:operate',
  shopRead: 'shop:read',
} as const;

/** Anyone on a shop's staff reads; the till operates; managers change the rules. */
export const SHOP_STAFF = [SCOPE.shopRead, SCOPE.shopOperate, SCOPE.shopManage] as const;
export const SHOP_OPERATE = [SCOPE.shopOperate, SCOPE.shopManage] as const;
export const SHOP_MANAGE = [SCOPE.shopManage] as const;
/** A manager, or an auditor reading the shop's books. */
export const SHOP_BOOKS = [SCOPE.shopManage, SCOPE.shopRead] as const;
