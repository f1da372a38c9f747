export interface PageRequest {
  first: number;
  after: string | null;
}
