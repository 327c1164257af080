import type { ViewerQuery } from '@kokyaku/client';
import { createContext, useContext } from 'react';

export type ViewerInfo = NonNullable<ViewerQuery['viewer']>;

export const ViewerContext = createContext<ViewerInfo | null>(null);

/** Who is signed in and what they may do: screens offer only what the server would accept. */
export function useViewer(): ViewerInfo {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error('useViewer outside the signed-in console');
  return viewer;
}
