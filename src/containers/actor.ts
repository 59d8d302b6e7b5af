/** Who is asking: an owner sees their own containers; an admin sees every container. */
export interface Actor {
  owner: string;
  admin: boolean;
}
