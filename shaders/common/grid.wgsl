// common/grid.wgsl — the folded grid. A dispatch of more than 65,535 workgroups is folded over
// y and z on the host (`gpu::forward::fold_grid`); this undoes the fold.

// The flat index of workgroup `wid` in a grid folded to groups_x × groups_y × ….
fn flat_workgroup(wid: vec3<u32>, groups_x: u32, groups_y: u32) -> u32 {
    return wid.x + groups_x * (wid.y + groups_y * wid.z);
}
