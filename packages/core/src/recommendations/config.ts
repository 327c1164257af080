export interface RecommendationsConfig {
  /**
   * Leave out what the customer already bought: 'auto' (default) decides per category from the
   * shop's own repurchase rate, 'always' or 'never'. A request can override it.
   */
  excludePurchased: 'auto' | 'always' | 'never';
  /** With 'auto': categories whose buyers buy the same item again less often than this are excluded. */
  repurchaseThreshold: number;
  /** FOR_CUSTOMER: a purchase, view or cart this many days old counts half as much. */
  recencyHalfLifeDays: number;
  /**
   * FOR_CUSTOMER: share of the score that comes from popularity (0-1). 'auto' (default): measured
   * on the shop's own history at each refresh (the blend with the best hit rate in a replay).
   */
  popularityWeight: number | 'auto';
  /** FOR_CUSTOMER: weigh each seed by how rare its product is among buyers (ln N/n). */
  seedIdf: boolean;
  /**
   * FOR_CUSTOMER: share of the personal score that comes from buying again what the customer bought
   * (against the neighbours of what they did), 0-1. 'auto' (default): measured with the popularity
   * weight on the shop's own history.
   */
  repeatWeight: number | 'auto';
  /**
   * FOR_CUSTOMER: hold back what a customer buys in a rhythm of their own until it comes round.
   * 'auto' (default): measured with the weights on the shop's own history.
   */
  cycles: boolean | 'auto';
}
